"""Slot concurrency holds across separate gunicorn processes sharing one database."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.ingest.ids import new_job_id
from app.ingest.models import FINISH_GRACE, Job
from app.settings.service import save_settings
from app.slots.models import Slot
from tests.support.booth import BoothResponse, booth_post
from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, ingest_url

pytestmark = pytest.mark.slow

SLOT_ID = "slot-001"
DELAY_SECONDS = 2


def configure_slot(db_session, config, *, slot_concurrency: int, delay_seconds: int) -> None:
    slot = db_session.get(Slot, SLOT_ID)
    slot.provider = "local"
    slot.settings = {"style": "sepia", "delay_seconds": delay_seconds}
    db_session.commit()
    save_settings(db_session, config, {"slot_concurrency": slot_concurrency}, "tests")


def distinct_photos(count: int) -> list[bytes]:
    """Different bytes each, so no request is taken for a repeat of another."""
    return [make_image_bytes(color=(40 * n, 120, 50)) for n in range(count)]


def post_at_once(urls: list[str], photos: list[bytes]) -> list[BoothResponse]:
    barrier = threading.Barrier(len(urls))

    def post(url: str, photo: bytes) -> BoothResponse:
        barrier.wait()
        return booth_post(url, photo, password=INGEST_PASSWORD)

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(post, urls, photos))


def insert_pending_job(db_session, deadline_in: timedelta) -> None:
    now = utcnow()
    db_session.add(
        Job(
            id=new_job_id(),
            slot_id=SLOT_ID,
            source="ingest",
            status="pending",
            provider="local",
            created_at=now - timedelta(minutes=2),
            started_at=now - timedelta(minutes=2),
            deadline_at=now + deadline_in,
        )
    )
    db_session.commit()


@pytest.fixture
def four_at_once(start_gunicorn, db_session, config) -> list[BoothResponse]:
    """Four simultaneous booth uploads, two to each of two processes, against a limit of two."""
    configure_slot(db_session, config, slot_concurrency=2, delay_seconds=DELAY_SECONDS)
    first, second = start_gunicorn(), start_gunicorn()
    urls = [ingest_url(server.url, SLOT_ID) for server in (first, second, first, second)]
    return post_at_once(urls, distinct_photos(4))


def test_exactly_two_of_four_simultaneous_requests_across_two_processes_succeed(four_at_once):
    assert sorted(answer.status for answer in four_at_once) == [200, 200, 429, 429]


def test_requests_over_the_limit_are_refused_as_slot_busy_with_retry_after(four_at_once):
    refused = [answer for answer in four_at_once if answer.status == 429]
    assert [answer.json()["failure_reason"] for answer in refused] == ["slot_busy", "slot_busy"]
    assert all(int(answer.headers["retry-after"]) > 0 for answer in refused)


def test_job_rows_record_two_done_and_two_slot_busy_failures(four_at_once, db_session):
    jobs = db_session.scalars(select(Job).where(Job.slot_id == SLOT_ID)).all()
    outcomes = Counter((job.status, job.failure_reason) for job in jobs)
    assert outcomes == {("done", None): 2, ("failed", "slot_busy"): 2}


def test_pending_job_past_its_finish_grace_does_not_count_against_the_limit(
    start_gunicorn, db_session, config
):
    configure_slot(db_session, config, slot_concurrency=1, delay_seconds=0)
    insert_pending_job(db_session, deadline_in=-(FINISH_GRACE + timedelta(seconds=5)))
    url = ingest_url(start_gunicorn().url, SLOT_ID)
    assert booth_post(url, make_image_bytes(), password=INGEST_PASSWORD).status == 200


def test_pending_job_just_past_its_deadline_still_counts_against_the_limit(
    start_gunicorn, db_session, config
):
    """Its request may still be storing the result or waiting for PostgreSQL."""
    configure_slot(db_session, config, slot_concurrency=1, delay_seconds=0)
    insert_pending_job(db_session, deadline_in=-FINISH_GRACE / 2)
    url = ingest_url(start_gunicorn().url, SLOT_ID)
    answer = booth_post(url, make_image_bytes(), password=INGEST_PASSWORD)
    assert (answer.status, answer.json()["failure_reason"]) == (429, "slot_busy")


def test_pending_job_within_its_deadline_counts_against_the_limit(
    start_gunicorn, db_session, config
):
    configure_slot(db_session, config, slot_concurrency=1, delay_seconds=0)
    insert_pending_job(db_session, deadline_in=timedelta(minutes=1))
    url = ingest_url(start_gunicorn().url, SLOT_ID)
    answer = booth_post(url, make_image_bytes(), password=INGEST_PASSWORD)
    assert answer.status == 429
    assert answer.json()["failure_reason"] == "slot_busy"
