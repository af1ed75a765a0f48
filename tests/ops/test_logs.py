"""Logs are JSON lines (console lines when asked) with the request and job ids, one event per
request, and never carry secrets or image bytes."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
from collections import Counter
from typing import Any

import pytest
import requests
import structlog
from gunicorn.config import Config as GunicornConfig

from app.config import PROJECT_ROOT
from app.ops.gunicorn_logging import StructuredLogger
from app.ops.logs import configure_logging
from tests.support.cli import PHOTOCHANGER, stop
from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, ingest_url, post_photo
from tests.support.servers import free_port, wait_healthy


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` as a JSON object; fails on the first line that is not one."""
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
    assert all(isinstance(event, dict) and "event" in event for event in events)
    return events


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
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == "booth-req-1"
    assert len(rejected.headers["X-Request-ID"]) == 32
    server.stop()

    text = log_path.read_text()
    events = json_lines(text)
    job_id = response.headers["X-Job-Id"]
    ours = [event for event in events if event.get("request_id") == "booth-req-1"]
    assert {"ingest.admitted", "ingest.done", "http.request"} <= {e["event"] for e in ours}
    assert all(e.get("job_id") == job_id for e in ours if e["event"].startswith("ingest."))
    assert INGEST_PASSWORD not in text
    assert "Wrong-Secret-42" not in text
    assert base64.b64encode(photo[100:160]).decode() not in text


@pytest.mark.slow
def test_every_line_of_a_served_run_is_json_with_one_event_per_request(
    empty_database_url, media_root, tmp_path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"ADMIN_PASSWORD", "INGEST_PASSWORD", "LOG_FORMAT", "PROXY_HOPS"}
    }
    env.update(
        DATABASE_URL=empty_database_url,
        MEDIA_ROOT=str(media_root),
        SECRET_KEY="test-secret-key",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        THREADS="4",
        LOG_LEVEL="INFO",
    )
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [PHOTOCHANGER, "serve"], env=env, stdout=out, stderr=err, cwd=PROJECT_ROOT
        )
    try:
        wait_healthy(url, process, 60, lambda: stdout.read_text() + stderr.read_text())
        first_start = {e["event"]: e for e in json_lines(stdout.read_text())}
        admin = first_start["first_start.admin_created"]
        ingest_password = first_start["first_start.ingest_password_created"]["password"]
        with requests.Session() as http:
            booth = post_photo(
                http,
                ingest_url(url),
                make_image_bytes(),
                password=ingest_password,
                headers={"X-Request-ID": "booth-1"},
            )
            login = http.post(
                f"{url}/api/login",
                json={"username": admin["username"], "password": admin["password"]},
                headers={"X-Request-ID": "login-1", "Cookie": "photochanger_session=cookie-x"},
            )
            capability = http.get(
                f"{url}/public/provider-media/capability-x",
                params={"token": "query-secret-x"},
                headers={"X-Request-ID": "media-1"},
            )
    finally:
        stop(process)

    assert (booth.status_code, login.status_code, capability.status_code) == (200, 200, 404)
    out_events, err_events = json_lines(stdout.read_text()), json_lines(stderr.read_text())
    gunicorn_lines = [e["event"] for e in err_events if e.get("logger") == "gunicorn.error"]
    assert any(line.startswith("Booting worker") for line in gunicorn_lines)
    assert any(line.startswith("Worker exiting") for line in gunicorn_lines)
    assert "serve.starting" in first_start
    requests_logged = [e for e in out_events + err_events if e["event"] == "http.request"]
    assert Counter(e["request_id"] for e in requests_logged)["booth-1"] == 1
    [booth_event] = [e for e in requests_logged if e["request_id"] == "booth-1"]
    assert booth_event["method"] == "POST"
    assert booth_event["path"] == "/ingest/slot-001"
    assert booth_event["status"] == 200
    assert booth_event["bytes"] == len(booth.content)
    assert booth_event["duration_ms"] > 0
    assert booth_event["client_ip"] == "127.0.0.1"
    [media_event] = [e for e in requests_logged if e["request_id"] == "media-1"]
    assert media_event["path"] == "/public/provider-media/…"
    everything = stdout.read_text() + stderr.read_text()
    for secret in ("capability-x", "query-secret-x", "cookie-x", login.json()["access_token"]):
        assert secret not in everything
    assert everything.count(admin["password"]) == 1  # printed once, at first start


def test_console_format_renders_app_events_and_gunicorn_lines_for_reading(capsys, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "console")
    configure_logging("INFO", "console")
    gunicorn_log = StructuredLogger(GunicornConfig())
    try:
        structlog.get_logger("test").info("slot.saved", slot_id="slot-001")
        logging.getLogger("alembic").info("Running upgrade 0001 -> 0002")
        gunicorn_log.info("Booting worker with pid: %s", 4711)
    finally:
        with capsys.disabled():  # later tests must not write to this test's closed capture
            configure_logging("INFO")
        for handler in list(gunicorn_log.error_log.handlers):
            gunicorn_log.error_log.removeHandler(handler)
    printed = capsys.readouterr()
    lines = (printed.out + printed.err).splitlines()
    assert any("slot.saved" in line and "slot_id=slot-001" in line for line in lines)
    assert any("Running upgrade 0001 -> 0002" in line for line in lines)
    assert any("Booting worker with pid: 4711" in line for line in lines)
    assert not any(line.startswith("{") for line in lines)
