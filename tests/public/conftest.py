"""Results created by the real ingest route: a finished one and a failed one."""

from __future__ import annotations

import pytest
import requests

from tests.support.ingest import ingest_url, post_photo
from tests.support.results import ingest
from tests.support.servers import LiveServer


@pytest.fixture
def done(live_server: LiveServer, http: requests.Session, jpeg: bytes) -> requests.Response:
    """The booth's response to a successful ingest (X-Job-Id, processed bytes)."""
    return ingest(live_server, http, jpeg)


@pytest.fixture
def job_id(done: requests.Response) -> str:
    return done.headers["X-Job-Id"]


@pytest.fixture
def failed_job_id(live_server: LiveServer, http: requests.Session) -> str:
    response = post_photo(http, ingest_url(live_server.url), b"this is not an image")
    assert response.status_code == 415
    failed: str = response.json()["job_id"]
    return failed
