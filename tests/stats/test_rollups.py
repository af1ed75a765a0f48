"""The triggers of migration 0002 keep the rollups equal to what the rows add up to, whatever
writes the rows: ORM inserts and updates, bulk updates, deletes, and the backfill on upgrade."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from app.db import alembic_config, upgrade_database, utcnow
from app.ingest.models import Job
from app.media.models import MediaObject
from tests.support.jobs import add_job

FRESH_COUNTS = """
SELECT date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), slot_id, provider,
       status, coalesce(status = 'failed' AND failure_reason LIKE 'provider\\_%', false),
       count(*)::int, max(finished_at) FILTER (WHERE status <> 'pending')
FROM jobs GROUP BY 1, 2, 3, 4, 5
"""
ROLLUP_COUNTS = """
SELECT hour, slot_id, provider, status, provider_error, jobs, last_finished_at
FROM job_stats_hourly WHERE jobs <> 0
"""
FRESH_DURATIONS = """
SELECT date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), slot_id, provider,
       floor(ln(greatest(duration_ms, 1)) / ln(1.1))::smallint, count(*)::int
FROM jobs WHERE status = 'done' AND duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4
"""
ROLLUP_DURATIONS = "SELECT hour, slot_id, provider, bucket, jobs FROM job_durations_hourly"
FRESH_MEDIA = """
SELECT slot_id, kind, count(*), sum(size_bytes) FROM media_objects
WHERE deleted_at IS NULL GROUP BY 1, 2
"""
ROLLUP_MEDIA = "SELECT slot_id, kind, files, bytes FROM media_usage WHERE files <> 0"


def rows(session: Session, sql: str) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in session.execute(sa.text(sql))}


def assert_rollups_match(session: Session) -> None:
    session.commit()
    assert rows(session, ROLLUP_COUNTS) == rows(session, FRESH_COUNTS)
    assert rows(session, ROLLUP_DURATIONS + " WHERE jobs <> 0") == rows(session, FRESH_DURATIONS)
    assert rows(session, ROLLUP_MEDIA) == rows(session, FRESH_MEDIA)


def add_media(session: Session, job: Job, kind: str, size: int) -> MediaObject:
    media = MediaObject(
        job_id=job.id,
        slot_id=job.slot_id,
        kind=kind,
        path=f"results/{job.id}/{kind}",
        mime="image/jpeg",
        size_bytes=size,
    )
    session.add(media)
    session.commit()
    return media


def test_rollups_follow_inserts_and_status_changes(db_session: Session) -> None:
    now = utcnow()
    pending = add_job(db_session, status="pending", now=now)
    add_job(db_session, status="failed", failure_reason="provider_error", now=now)
    add_job(db_session, status="failed", failure_reason=None, failure_message=None, now=now)
    add_job(db_session, slot_id="slot-007", provider="gemini", duration_ms=7000, now=now)
    assert_rollups_match(db_session)

    pending.status, pending.duration_ms, pending.finished_at = "done", 1234, now
    db_session.commit()
    assert_rollups_match(db_session)


def test_rollups_follow_bulk_updates_and_deletes(db_session: Session) -> None:
    now = utcnow()
    for hours in range(6):
        add_job(db_session, status="pending", age=timedelta(hours=hours, minutes=1), now=now)
        add_job(db_session, age=timedelta(hours=hours, minutes=2), duration_ms=hours * 900, now=now)

    db_session.execute(
        sa.update(Job)
        .where(Job.status == "pending")
        .values(status="interrupted", failure_reason="interrupted")
    )
    db_session.execute(sa.update(Job).values(cleaned_at=now))
    assert_rollups_match(db_session)

    db_session.execute(sa.delete(Job).where(Job.created_at < now - timedelta(hours=3)))
    assert_rollups_match(db_session)


def test_media_usage_counts_live_files_only(db_session: Session) -> None:
    job = add_job(db_session)
    payload = add_media(db_session, job, "payload", 1000)
    add_media(db_session, job, "preview", 200)
    add_media(db_session, add_job(db_session, slot_id="slot-003"), "source", 5000)
    assert_rollups_match(db_session)

    payload.deleted_at = utcnow()
    db_session.commit()
    assert_rollups_match(db_session)

    db_session.execute(sa.delete(MediaObject).where(MediaObject.kind == "source"))
    assert_rollups_match(db_session)
    assert rows(db_session, ROLLUP_MEDIA) == {("slot-001", "preview", 1, 200)}


def add_job_to_revision_0001(session: Session, **fields: Any) -> None:
    """A job row written while the schema is at revision 0001: only the columns it had then
    (the model has columns later revisions added)."""
    jobs_then = sa.Table("jobs", sa.MetaData(), autoload_with=session.connection())
    now = utcnow()
    values = {
        "id": "o" * 22,
        "source": "ingest",
        "provider": "local",
        "failure_reason": "provider_error",
        "client_meta": {},
        "created_at": now - timedelta(minutes=5),
        "deadline_at": now,
        "finished_at": now - timedelta(minutes=4),
        "duration_ms": 1000,
        **fields,
    }
    session.execute(jobs_then.insert().values(values))
    session.commit()


def test_upgrade_backfills_the_rollups_of_existing_rows(
    db_session: Session, database_url: str
) -> None:
    add_job(db_session, age=timedelta(hours=5), duration_ms=800)
    add_job(db_session, status="timeout")
    add_media(db_session, add_job(db_session), "payload", 4096)
    db_session.close()

    command.downgrade(alembic_config(database_url), "0001")
    add_job_to_revision_0001(db_session, slot_id="slot-002", status="failed")
    upgrade_database(database_url)

    assert_rollups_match(db_session)
    assert len(rows(db_session, ROLLUP_COUNTS)) == 4
