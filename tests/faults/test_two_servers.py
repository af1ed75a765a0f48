"""Two app servers (separate gunicorn processes, as two ``photochanger serve`` instances) sharing
one database and media directory keep every limit as one server would.

Covered elsewhere across processes: the per-slot concurrency limit
(tests/ingest/test_concurrency_processes.py), the login throttle
(tests/auth/test_throttle.py::test_failures_on_one_process_lock_logins_on_another) and Telegram
update dedupe (tests/bot/test_limits.py::test_an_update_delivered_to_two_app_processes_at_once_is_
handled_once). Here: idempotency, the booth password throttle and the /pubgallery rate limit.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from app.ingest.models import Job
from app.ingest.password import FAILURE_LIMIT as PASSWORD_FAILURE_LIMIT
from app.ingest.password import WINDOW_SECONDS as PASSWORD_WINDOW_SECONDS
from app.public.gallery import RATE_LIMIT, RATE_WINDOW_SECONDS
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.stored import use_provider

pytestmark = pytest.mark.slow


def clear_of_window_edge(window_seconds: int, needed_seconds: float = 8) -> None:
    """Wait for a fresh fixed counting window if the current one ends within ``needed_seconds``,
    so the counts a test makes all land in one window."""
    left = window_seconds - time.time() % window_seconds
    if left < needed_seconds:
        time.sleep(left + 0.2)


@pytest.fixture
def two_servers(start_gunicorn):
    return start_gunicorn(), start_gunicorn()


def test_same_idempotency_key_and_photo_sent_to_both_servers_at_once_is_processed_once(
    two_servers, db_session
):
    use_provider(db_session, "local", {"style": "sepia", "delay_seconds": 1})
    photo, barrier = make_image_bytes(), threading.Barrier(2)

    def post(server) -> requests.Response:
        with requests.Session() as http:
            barrier.wait()
            return post_photo(
                http, ingest_url(server.url), photo, headers={"Idempotency-Key": "booth-42"}
            )

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(post, two_servers)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content
    jobs = db_session.scalars(select(Job)).all()
    assert len([job for job in jobs if job.replay_of is None]) == 1


def test_idempotency_key_reused_with_another_photo_on_the_other_server_is_422(
    two_servers, db_session, http
):
    use_provider(db_session, "local", {"style": "sepia"})
    first, second = two_servers
    key = {"Idempotency-Key": "booth-43"}
    assert post_photo(http, ingest_url(first.url), make_image_bytes(), headers=key).ok
    other = make_image_bytes(color=(10, 20, 30))
    assert_error(
        post_photo(http, ingest_url(second.url), other, headers=key), 422, "idempotency_key_reused"
    )


def test_wrong_booth_passwords_on_both_servers_add_up_to_one_throttle(two_servers, http, jpeg):
    clear_of_window_edge(PASSWORD_WINDOW_SECONDS)
    answers = [
        post_photo(http, ingest_url(server.url), jpeg, password="wrong").status_code
        for _ in range(PASSWORD_FAILURE_LIMIT // 2)
        for server in two_servers
    ]
    assert answers == [401] * PASSWORD_FAILURE_LIMIT
    for server in two_servers:
        response = post_photo(http, ingest_url(server.url), jpeg)
        assert_error(response, 429, "too_many_attempts")
        assert int(response.headers["Retry-After"]) > 0


def test_pubgallery_requests_on_both_servers_add_up_to_one_rate_limit(two_servers, http):
    clear_of_window_edge(RATE_WINDOW_SECONDS)
    answers = [
        http.get(f"{server.url}/pubgallery", timeout=10).status_code
        for _ in range(RATE_LIMIT // 2)
        for server in two_servers
    ]
    assert 429 not in answers
    for server in two_servers:
        response = http.get(f"{server.url}/pubgallery", timeout=10)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
