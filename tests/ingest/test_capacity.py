"""A worker runs at most its share of booth uploads at once and refuses the next at once, so the
rest of its threads stay free; decodes and encodes wait their turn within the deadline."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from app.deadline import Deadline
from app.ingest.capacity import IngestCapacity
from app.ingest.errors import IngestError
from app.ingest.models import Job
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.stored import use_provider


@pytest.fixture
def config(make_config):
    return make_config(ingest_jobs_per_worker=1)


def test_upload_beyond_the_workers_job_places_is_429_server_busy_at_once(
    live_server, http, db_session
):
    use_provider(db_session, "local", {"style": "sepia", "delay_seconds": 2})
    url = ingest_url(live_server.url)
    answers: list[requests.Response] = []
    first = threading.Thread(
        target=lambda: answers.append(post_photo(requests.Session(), url, make_image_bytes()))
    )
    first.start()
    deadline = time.monotonic() + 5
    while not db_session.scalar(select(func.count()).select_from(Job)):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    started = time.monotonic()
    refused = post_photo(http, url, make_image_bytes(color=(9, 8, 7)))
    refused_after = time.monotonic() - started
    health = http.get(f"{live_server.url}/healthz", timeout=5)
    first.join(15)

    assert_error(refused, 429, "server_busy")
    assert int(refused.headers["Retry-After"]) > 0
    assert refused_after < 1
    assert health.status_code == 200
    assert [answer.status_code for answer in answers] == [200]
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Job)) == 1


def test_image_work_waits_for_a_turn_and_gives_up_at_the_deadline():
    capacity = IngestCapacity(jobs=1, image_work=1)
    with capacity.image_work(Deadline.after(1)):
        started = time.monotonic()
        with pytest.raises(IngestError) as refused, capacity.image_work(Deadline.after(0.3)):
            pass
        assert refused.value.failure_reason == "timeout"
        assert 0.25 < time.monotonic() - started < 1
    with capacity.image_work(Deadline.after(1)):
        pass  # the turn was given back


def test_job_places_default_to_three_quarters_of_the_threads(make_config):
    assert make_config(threads=64).ingest_job_places == 48
    assert make_config(threads=64, ingest_jobs_per_worker=10).ingest_job_places == 10
