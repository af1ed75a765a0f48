"""A job the cleanup marked ``interrupted`` keeps that state when its request ends after all:
every state change from ``pending`` is conditional, and the late request answers 504."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ingest.models import FINISH_GRACE, Job
from app.media.models import MediaObject
from app.media.storage import MediaStore
from app.ops.cleanup import run_cleanup
from app.slots.models import Slot
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.stored import files_under, only_job

PROVIDER_DELAY_SECONDS = 3


@contextmanager
def request_in_background(url: str, photo: bytes) -> Iterator[dict[str, requests.Response]]:
    """Post ``photo`` from another thread; the response is in the dict after the block."""
    answer: dict[str, requests.Response] = {}

    def send() -> None:
        with requests.Session() as own:
            answer["response"] = post_photo(own, url, photo)

    thread = threading.Thread(target=send)
    thread.start()
    try:
        yield answer
    finally:
        thread.join()


def wait_for_pending_job(session: Session, timeout: float = 5) -> Job:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        session.expire_all()
        job = session.scalars(select(Job).where(Job.status == "pending")).first()
        if job is not None:
            return job
        time.sleep(0.05)
    raise AssertionError("the request never admitted its job")


def interrupt_as_the_cleanup_would(session: Session, media_root, job: Job) -> None:
    """Run the real cleanup as of a moment past the job's deadline and grace period."""
    assert job.deadline_at is not None
    later = job.deadline_at + FINISH_GRACE + FINISH_GRACE / 60
    session.expunge_all()
    summary = run_cleanup(session, MediaStore(media_root), now=later)
    assert summary.interrupted == 1


def slow_slot(session: Session, style: str = "sepia") -> None:
    slot = session.get(Slot, "slot-001")
    assert slot is not None
    slot.settings = {
        "style": style,
        "delay_seconds": PROVIDER_DELAY_SECONDS,
    }
    session.commit()


def test_result_arriving_after_the_cleanup_interrupted_the_job_is_504_and_discarded(
    live_server, http, jpeg, db_session, media_root
):
    slow_slot(db_session)
    with request_in_background(ingest_url(live_server.url), jpeg) as answer:
        job = wait_for_pending_job(db_session)
        interrupt_as_the_cleanup_would(db_session, media_root, job)
    body = assert_error(answer["response"], 504, "timeout")
    assert body["job_id"] == job.id
    db_session.expire_all()
    row = only_job(db_session)
    assert (row.status, row.failure_reason, row.result_path) == ("interrupted", "interrupted", None)
    assert db_session.scalars(select(MediaObject)).all() == []
    assert files_under(media_root / "results") == []


def test_failure_arriving_after_the_cleanup_interrupted_the_job_keeps_it_interrupted(
    live_server, http, jpeg, db_session, media_root
):
    slow_slot(db_session, style="missing")  # the provider refuses once its delay is over
    with request_in_background(ingest_url(live_server.url), jpeg) as answer:
        job = wait_for_pending_job(db_session)
        interrupt_as_the_cleanup_would(db_session, media_root, job)
    assert_error(answer["response"], 504, "timeout")
    db_session.expire_all()
    row = only_job(db_session)
    assert (row.status, row.failure_reason) == ("interrupted", "interrupted")
    assert files_under(media_root / "results") == []
