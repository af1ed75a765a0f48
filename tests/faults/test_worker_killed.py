"""A gunicorn worker killed (SIGKILL) in the middle of a job: the gunicorn master ends the job as
interrupted at once, so the slot takes photos again right away, with nothing of the job left on
the media volume and nothing left for the cleanup."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psutil
import pytest
from sqlalchemy import select

from app.db import utcnow
from app.ingest.models import Job, JobStatus
from app.media.storage import MediaStore
from app.ops.cleanup import run_cleanup
from app.settings.service import save_settings
from tests.support.booth import BoothResponse, booth_post
from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, ingest_url
from tests.support.stored import files_under, use_provider

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 10


def pending_jobs(db_session) -> list[Job]:
    db_session.expire_all()
    return list(db_session.scalars(select(Job).where(Job.status == JobStatus.PENDING)))


def wait_for(check, seconds: float):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"nothing after {seconds} s"
        time.sleep(0.1)
    return found


def test_killed_workers_job_is_interrupted_at_once_and_frees_its_slot(
    start_gunicorn, db_session, config, media_root
):
    save_settings(
        db_session,
        config,
        {"sync_response_seconds": DEADLINE_SECONDS, "slot_concurrency": 1},
        "tests",
    )
    use_provider(db_session, "local", {"style": "sepia", "delay_seconds": 8})
    server = start_gunicorn(workers=1)
    url = ingest_url(server.url)
    answers: list[BoothResponse | Exception] = []

    def post_the_doomed_photo() -> None:
        try:
            answers.append(booth_post(url, make_image_bytes(), password=INGEST_PASSWORD))
        except OSError as error:
            answers.append(error)

    doomed = threading.Thread(target=post_the_doomed_photo)
    doomed.start()
    [job] = wait_for(lambda: pending_jobs(db_session), 10)
    [worker] = psutil.Process(server.process.pid).children()
    worker.kill()
    doomed.join(20)
    assert len(answers) == 1 and isinstance(answers[0], OSError)  # the connection just drops

    wait_for(lambda: not pending_jobs(db_session), 5)
    db_session.expire_all()
    killed = db_session.get(Job, job.id)
    assert killed is not None
    assert (killed.status, killed.failure_reason, killed.result_path) == (
        "interrupted",
        "interrupted",
        None,
    )
    assert killed.deadline_at > utcnow()  # ended long before its deadline

    use_provider(db_session, "local", {"style": "sepia"})
    freed = booth_post(url, make_image_bytes(color=(4, 5, 6)), password=INGEST_PASSWORD)
    assert freed.status == 200, freed.body[:300]

    summary = run_cleanup(db_session, MediaStore(media_root), now=utcnow() + timedelta(hours=2))
    assert summary.interrupted == 0
    done = db_session.get(Job, freed.headers["x-job-id"])
    assert done is not None and done.result_path
    assert {path.parent for path in files_under(media_root)} == {media_root / done.result_path}
