"""A photo job's final state on its row: done with its result, or failed.

A pending job row changes state only while it is still pending: the cleanup may have marked it
``interrupted`` after its deadline, and that outcome stands.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from app.db import retry_while_unavailable, utcnow
from app.deadline import Deadline
from app.ingest.errors import IngestError
from app.ingest.models import OUTCOME_WRITE_GRACE, Job, JobStatus
from app.media.models import MediaObject
from app.media.storage import ResultKind, StoredResult
from app.settings.service import RuntimeSettings

log = structlog.get_logger(__name__)

INTERRUPTED_DETAIL = (
    "The job outlived its deadline and was marked interrupted; its outcome is lost."
)


def finish_job(session: Session, runtime: RuntimeSettings, job: Job, stored: StoredResult) -> None:
    """Mark the pending ``job`` done with its stored result and add its media rows.

    Raises ``IngestError(timeout)`` when the job is no longer pending (the cleanup marked it
    interrupted): nothing is written, and the caller removes the result folder.
    """
    finished = utcnow()
    payload = stored.file(ResultKind.PAYLOAD)
    job.status = JobStatus.DONE
    job.finished_at = finished
    job.duration_ms = round((finished - job.created_at).total_seconds() * 1000)
    job.result_path = stored.path
    job.result_mime = payload.mime
    job.result_bytes = payload.size_bytes
    job.result_expires_at = finished + timedelta(hours=runtime.result_ttl_hours)
    if not end_pending(session, job):
        session.rollback()
        raise IngestError("timeout", INTERRUPTED_DETAIL)
    media_rows = [
        {
            "job_id": job.id,
            "slot_id": job.slot_id,
            "kind": file.kind,
            "path": file.path,
            "mime": file.mime,
            "size_bytes": file.size_bytes,
            "created_at": finished,
        }
        for file in stored.files
    ]
    session.connection().execute(INSERT_MEDIA_ROWS, media_rows)
    session.commit()


def record_failure(
    session: Session, job: Job, failure_reason: str, message: str, deadline: Deadline
) -> bool:
    """Store the failed state of ``job`` (detached): on its pending row, or as a new row when
    admission never wrote one. False when the row had already ended (the cleanup interrupted
    it): it keeps that state. Waits for an unavailable PostgreSQL until ``OUTCOME_WRITE_GRACE``
    past ``deadline``."""
    session.rollback()
    write_until = Deadline(deadline.expires_at + OUTCOME_WRITE_GRACE.total_seconds())
    recorded = retry_while_unavailable(
        session, lambda: _write_failure(session, job, failure_reason, message), write_until
    )
    if not recorded:
        log.warning("ingest.already_interrupted", failure_reason=failure_reason)
        return False
    log.warning("ingest.failed", failure_reason=failure_reason, failure_message=message)
    return True


def _write_failure(session: Session, job: Job, failure_reason: str, message: str) -> bool:
    finished = utcnow()
    job.result_path = job.result_mime = job.result_expires_at = job.result_bytes = None
    job.status = JobStatus.TIMEOUT if failure_reason == "timeout" else JobStatus.FAILED
    job.failure_reason = failure_reason
    job.failure_message = message
    job.finished_at = finished
    job.duration_ms = round((finished - job.created_at).total_seconds() * 1000)
    recorded = end_pending(session, job)
    if not recorded and session.get(Job, job.id) is None:
        session.add(job)  # refused before admission: the row is written now
        recorded = True
    session.commit()
    return recorded


FINAL_STATE_COLUMNS = (
    "status",
    "failure_reason",
    "failure_message",
    "finished_at",
    "duration_ms",
    "provider_ms",
    "result_path",
    "result_mime",
    "result_bytes",
    "result_expires_at",
)


END_PENDING = (
    update(Job)
    .where(Job.id == bindparam("job_id"), Job.status == JobStatus.PENDING)
    .values({name: bindparam(f"final_{name}") for name in FINAL_STATE_COLUMNS})
)
"""Built once: building a statement per call costs about as much CPU as running it."""
INSERT_MEDIA_ROWS = insert(MediaObject)


def end_pending(session: Session, job: Job) -> bool:
    """Write ``job``'s final state onto its row if that row is still pending; False otherwise
    (no such row yet, or the cleanup already ended it)."""
    values = {f"final_{name}": getattr(job, name) for name in FINAL_STATE_COLUMNS}
    result = session.connection().execute(END_PENDING, {"job_id": job.id, **values})
    return result.rowcount == 1
