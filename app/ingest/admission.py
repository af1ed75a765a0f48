"""Admission of a job: the concurrency limits and idempotency, decided inside PostgreSQL.

Runs under transaction-scoped advisory locks (slot, then provider) so the counts hold across every
process and host. A pending job counts until its request has really finished
(``Job.presumed_running``), not just until its deadline.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, DateTime, Select, bindparam, func, insert, or_, select, text
from sqlalchemy.orm import Session

from app.db import utcnow
from app.deadline import Deadline
from app.ingest.errors import IngestError
from app.ingest.models import FINISH_GRACE, Job, JobSource, JobStatus
from app.ingest.schemas import IngestRequest
from app.providers.base import Provider
from app.settings.service import RuntimeSettings

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 5
WAIT_POLL_SECONDS = 0.2


def admit(
    session: Session,
    runtime: RuntimeSettings,
    job: Job,
    provider: Provider,
    request: IngestRequest,
) -> Job | None:
    """Insert ``job`` as pending if the slot and provider have room, or find the job it repeats
    (then a finished job is returned, to replay)."""
    # Each pass takes the locks afresh: after waiting for an identical pending job, the counts and
    # the job to replay must be read again under the lock, since other requests ran meanwhile.
    while True:
        now = utcnow()
        _lock(session, f"ingest:slot:{job.slot_id}")
        original = find_original(session, runtime, job, request, now)
        if original is not None and original.status == JobStatus.DONE:
            session.commit()
            return original
        if original is not None:
            session.commit()
            wait_for(session, original, request.deadline)
            continue
        if _pending_count(session, PENDING_IN_SLOT, job.slot_id, now) >= runtime.slot_concurrency:
            session.rollback()
            raise IngestError("slot_busy", retry_after=RETRY_AFTER_SECONDS)
        if provider.calls_out:
            _lock(session, f"ingest:provider:{provider.name}")
            busy = _pending_count(session, PENDING_FOR_PROVIDER, provider.name, now)
            if busy >= runtime.provider_concurrency:
                session.rollback()
                raise IngestError("provider_busy", retry_after=RETRY_AFTER_SECONDS)
        job.started_at = now
        # Inserted by a plain statement, never added to the session: later commits of this
        # session (which hold no lock) then never flush half-made changes to the pending row; the
        # final state is one conditional update (``finish_job``).
        session.execute(INSERT_JOB, {column: getattr(job, column) for column in JOB_COLUMNS})
        session.commit()
        log.info("ingest.admitted", slot_id=job.slot_id, provider=job.provider)
        return None


def find_original(
    session: Session, runtime: RuntimeSettings, job: Job, request: IngestRequest, now: datetime
) -> Job | None:
    """The live job this request repeats within the dedupe window: the same photo with the same
    Idempotency-Key, or (booth) the same photo bytes. Outside the window nothing repeats.

    A key is bound to the photo of its first job in the window: the same key with another photo
    raises ``IngestError(idempotency_key_reused)``.
    """
    if not runtime.dedupe_window_minutes:
        return None
    since = now - timedelta(minutes=runtime.dedupe_window_minutes)
    if request.idempotency_key:
        in_window = (Job.slot_id == job.slot_id) & (Job.created_at > since)
        _check_key_binding(session, job, request.idempotency_key, in_window)
    by_key, by_content = bool(request.idempotency_key), request.dedupe_by_content
    if not (by_key or by_content):
        return None
    parameters = {
        "slot_id": job.slot_id,
        "since": since,
        "sha256": job.input_sha256,
        "key": request.idempotency_key,
        "now": now,
    }
    return session.scalars(ORIGINAL_STATEMENTS[by_key, by_content], parameters).first()


def _check_key_binding(
    session: Session, job: Job, key: str, in_window: ColumnElement[bool]
) -> None:
    bound_sha256 = session.scalar(
        select(Job.input_sha256)
        .where(in_window, Job.idempotency_key == key, Job.input_sha256.is_not(None))
        .order_by(Job.created_at, Job.id)
        .limit(1)
    )
    if bound_sha256 is not None and bound_sha256 != job.input_sha256:
        raise IngestError(
            "idempotency_key_reused",
            "The key was used with another photo within the dedupe window.",
        )


def wait_for(session: Session, original: Job, deadline: Deadline) -> None:
    """Wait while ``original`` is running, within this request's own deadline."""
    while True:
        session.refresh(original)
        if original.status != JobStatus.PENDING or original.deadline_at <= utcnow() - FINISH_GRACE:
            session.commit()
            return
        session.commit()
        if not deadline.fits(WAIT_POLL_SECONDS):
            raise IngestError(
                "timeout", f"An identical request (job {original.id}) is still being processed."
            )
        time.sleep(WAIT_POLL_SECONDS)


def _lock(session: Session, key: str) -> None:
    session.execute(LOCK, {"key": key})


def _pending_count(session: Session, statement: Select[int], value: str, now: datetime) -> int:
    return session.scalar(statement, {"value": value, "now": now}) or 0


# The statements of every admission, built once: building a statement per call costs about as
# much CPU as running it.
_NOW = bindparam("now", type_=DateTime(timezone=True))
"""Stands for ``now`` in ``Job``'s SQL conditions; each execution binds its own."""
LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
PENDING_IN_SLOT = select(func.count()).where(
    Job.presumed_running(_NOW), Job.slot_id == bindparam("value")
)
PENDING_FOR_PROVIDER = select(func.count()).where(
    Job.presumed_running(_NOW), Job.provider == bindparam("value")
)
JOB_COLUMNS = tuple(column.key for column in Job.__table__.columns)
INSERT_JOB = insert(Job)


def _original_statement(by_key: bool, by_content: bool) -> Select[Job]:
    matches = []
    if by_key:
        matches.append(Job.idempotency_key == bindparam("key"))
    if by_content:
        matches.append(Job.source == JobSource.INGEST)
    return (
        select(Job)
        .where(
            Job.slot_id == bindparam("slot_id"),
            Job.created_at > bindparam("since", type_=DateTime(timezone=True)),
            Job.input_sha256 == bindparam("sha256"),
            or_(*matches),
        )
        .where(Job.presumed_running(_NOW) | Job.live_result(_NOW))
        .order_by(Job.created_at.desc())
        .limit(1)
    )


ORIGINAL_STATEMENTS = {
    (by_key, by_content): _original_statement(by_key, by_content)
    for by_key in (False, True)
    for by_content in (False, True)
    if by_key or by_content
}
"""The live job a request repeats, by (Idempotency-Key given, booth photo bytes)."""
