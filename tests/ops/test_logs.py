"""Logs are JSON lines with the request and job ids, and never carry secrets or image bytes."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, ingest_url, post_photo


@pytest.mark.slow
def test_ingest_logs_json_lines_with_ids_and_no_secrets(start_gunicorn, tmp_path):
    log_path = tmp_path / "app.log"
    server = start_gunicorn(log_path=log_path, LOG_LEVEL="INFO")
    photo = make_image_bytes(noise=True)
    with requests.Session() as http:
        response = post_photo(
            http, ingest_url(server.url), photo, headers={"X-Request-ID": "booth-req-1"}
        )
        rejected = post_photo(http, ingest_url(server.url), photo, password="Wrong-Secret-42")
    assert response.headers["X-Request-ID"] == "booth-req-1"
    assert len(rejected.headers["X-Request-ID"]) == 32
    server.stop()

    text = log_path.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    job_id = response.headers["X-Job-Id"]
    ours = [event for event in events if event.get("request_id") == "booth-req-1"]
    assert {"ingest.admitted", "ingest.done", "http.request"} <= {e["event"] for e in ours}
    assert all(e.get("job_id") == job_id for e in ours if e["event"].startswith("ingest."))
    assert INGEST_PASSWORD not in text
    assert "Wrong-Secret-42" not in text
    assert base64.b64encode(photo[100:160]).decode() not in text
