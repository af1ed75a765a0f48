"""The retention job limited to one slot, as the admin's slot tools start it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ingest.models import Job
from app.media.storage import MediaStore
from app.ops.cleanup import run_slot_cleanup
from app.ops.cleanup_summary import CleanupSummary
from tests.support.cleanup import (
    HOUR,
    RESULT_BYTES,
    add_result,
    database_snapshot,
    media_rows,
    populate,
    reload,
    without_timing,
)


def slot_cleanup(session: Session, store: MediaStore, now: datetime) -> CleanupSummary:
    session.expunge_all()
    return run_slot_cleanup(session, store, "slot-001", now=now)


def test_slot_cleanup_removes_only_that_slots_expired_results(db_session, store, now):
    expired, expired_folder = add_result(db_session, store, now, expires_in=-HOUR)
    live, live_folder = add_result(db_session, store, now, expires_in=HOUR)
    other, other_folder = add_result(db_session, store, now, slot_id="slot-002", expires_in=-HOUR)

    summary = slot_cleanup(db_session, store, now)

    assert (summary.expired_results, summary.bytes_freed) == (1, RESULT_BYTES)
    assert not expired_folder.exists()
    assert live_folder.exists()
    assert other_folder.exists()
    cleaned = {job.id: db_session.get(Job, job.id) for job in (expired, live, other)}
    assert {job_id: job and job.cleaned_at for job_id, job in cleaned.items()} == {
        expired.id: now,
        live.id: None,
        other.id: None,
    }
    assert all(m.deleted_at == now for m in media_rows(db_session, expired))
    assert all(m.deleted_at is None for m in media_rows(db_session, other))


def test_slot_cleanup_does_nothing_but_expire_results(db_session, store, now):
    populate(db_session, store, now)
    db_session.expunge_all()
    expired_ids = set(
        db_session.scalars(
            select(Job.id).where(Job.result_expires_at <= now, Job.cleaned_at.is_(None))
        )
    )
    before = database_snapshot(db_session)

    summary = slot_cleanup(db_session, store, now)

    assert without_timing(summary) == CleanupSummary(
        expired_results=len(expired_ids), bytes_freed=len(expired_ids) * RESULT_BYTES
    )
    after = database_snapshot(db_session)
    assert {
        table: rows for table, rows in after.items() if table not in ("jobs", "media_objects")
    } == {table: rows for table, rows in before.items() if table not in ("jobs", "media_objects")}
    assert len(after["jobs"]) == len(before["jobs"])
    assert (store.temp_dir / "staging.abcd").exists()
    assert (store.results_dir / "slot-002" / "orphanfolder00000000000").exists()
    assert db_session.scalar(select(func.count()).where(Job.status == "pending")) == 1


def test_slot_cleanup_skips_while_the_full_cleanup_holds_the_lock(
    db_session, store, now, lock_held_elsewhere
):
    job, folder = add_result(db_session, store, now, expires_in=-HOUR)

    summary = slot_cleanup(db_session, store, now)

    assert summary.skipped
    assert folder.exists()
    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at is None
