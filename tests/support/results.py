"""A guest's results in tests: ingested over real HTTP, their public URLs, rows changed in place."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.models import Job
from tests.support.ingest import ingest_url, post_photo
from tests.support.servers import LiveServer

BOOTH_FIELDS = {"user_id": "guest-4711", "profile": "wedding-profile-x", "time": "1700000000"}
UNKNOWN_ID = "AAAAAAAAAAAAAAAAAAAAAA"


def set_job(db_session: Session, job_id: str, **values: object) -> None:
    db_session.execute(update(Job).where(Job.id == job_id).values(**values))
    db_session.commit()


def ingest(live_server: LiveServer, http: requests.Session, photo: bytes) -> requests.Response:
    response = post_photo(http, ingest_url(live_server.url), photo, extra=BOOTH_FIELDS)
    assert response.status_code == 200, response.text
    return response


def file_url(live_server: LiveServer, job_id: str) -> str:
    return f"{live_server.url}/public/results/{job_id}"


def page_url(live_server: LiveServer, job_id: str) -> str:
    return f"{live_server.url}/r/{job_id}"


def html_lang(response: requests.Response) -> str:
    match = re.search(r'<html lang="([a-z]+)"', response.text)
    assert match, response.text[:200]
    return match.group(1)


def expire_in(db_session: Session, job_id: str, delta: timedelta) -> None:
    set_job(db_session, job_id, result_expires_at=utcnow() + delta)


def stored_payload(media_root: Path, job_id: str) -> Path:
    return media_root / "results" / "slot-001" / job_id / "payload.jpg"
