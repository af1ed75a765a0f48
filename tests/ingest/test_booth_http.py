"""The booth's real wire format against the app under real gunicorn."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urljoin

import pytest

from app.ingest.models import Job
from tests.support.booth import BOOTH_FIELDS, BoothResponse, booth_post, connect
from tests.support.ingest import INGEST_PASSWORD, ingest_url

pytestmark = pytest.mark.slow

MAX_UPLOAD_MB = 20
OVERSIZED_BYTES = 30 * 1024 * 1024


@pytest.fixture
def server_url(start_gunicorn) -> str:
    url: str = start_gunicorn(MAX_UPLOAD_MB=str(MAX_UPLOAD_MB)).url
    return url


@pytest.fixture
def booth_answer(server_url, jpeg) -> BoothResponse:
    return booth_post(ingest_url(server_url), jpeg, password=INGEST_PASSWORD)


def test_booth_is_told_to_continue_before_it_sends_the_photo(booth_answer):
    assert booth_answer.got_continue


def test_booth_gets_the_processed_jpeg_with_length_and_result_headers(booth_answer, server_url):
    assert booth_answer.status == 200
    assert booth_answer.headers["content-type"] == "image/jpeg"
    assert int(booth_answer.headers["content-length"]) == len(booth_answer.body)
    assert booth_answer.body.startswith(b"\xff\xd8\xff")
    assert booth_answer.headers["cache-control"] == "no-store"
    job_id = booth_answer.headers["x-job-id"]
    assert booth_answer.headers["x-result-url"] == f"{server_url}/r/{job_id}"


def test_job_row_keeps_the_booth_fields_but_not_the_password(booth_answer, db_session):
    job = db_session.get(Job, booth_answer.headers["x-job-id"])
    assert job is not None
    assert job.status == "done"
    assert job.client_meta == BOOTH_FIELDS


def test_result_url_shows_the_photo_the_booth_received(booth_answer, http):
    page = http.get(booth_answer.headers["x-result-url"], timeout=10)
    match = re.search(r'<img\b[^>]*\bsrc="([^"]+)"', page.text)
    assert page.status_code == 200
    assert match is not None
    image = http.get(urljoin(page.url, html.unescape(match.group(1))), timeout=10)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.content == booth_answer.body


def test_wrong_booth_password_is_answered_401_invalid_password(server_url, jpeg):
    answer = booth_post(ingest_url(server_url), jpeg, password="not-the-password")
    assert answer.status == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["failure_reason"] == "invalid_password"


def test_oversized_declared_length_is_answered_413_before_the_body_is_sent(server_url):
    with connect(ingest_url(server_url)) as (connection, target):
        started = time.monotonic()
        connection.send_head(target, OVERSIZED_BYTES)
        continued = connection.await_continue(timeout=2)
        answer = connection.read_response(timeout=2)
        elapsed = time.monotonic() - started
    assert continued == "continue"
    assert answer.status == 413
    assert answer.json()["failure_reason"] == "payload_too_large"
    assert elapsed < 2


def test_connection_is_closed_at_once_after_an_oversized_body_is_refused(server_url):
    with connect(ingest_url(server_url)) as (connection, target):
        connection.send_head(target, OVERSIZED_BYTES)
        answer = connection.read_response(timeout=2)
        closed = connection.closed_by_server(timeout=2)
    assert answer.headers["connection"] == "close"
    assert closed
