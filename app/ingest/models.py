from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.db import Base, utcnow


class JobStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


class JobSource(StrEnum):
    INGEST = "ingest"
    """A booth upload."""
    UI_TEST = "ui_test"
    TELEGRAM = "telegram"
    API = "api"
    """A test run through the admin API."""


FAILED_STATUSES = (JobStatus.FAILED, JobStatus.TIMEOUT, JobStatus.INTERRUPTED)
SqlTime = datetime | sa.ColumnElement[datetime]
"""A moment in a SQL condition: a value, or a bound parameter of a statement built once."""
FINISH_GRACE = timedelta(seconds=15)
"""How long past its deadline a pending job is still presumed running. Its request's outbound calls
end at the deadline; all that may follow is writing the outcome (``OUTCOME_WRITE_GRACE``, waiting
for PostgreSQL at most that long) and removing files. Past it, the process is presumed dead (a
whole server that crashed: a single killed worker's jobs are ended at once by the gunicorn
master): the job stops counting toward the concurrency limits and the cleanup marks it
``interrupted``."""
OUTCOME_WRITE_GRACE = timedelta(seconds=5)
"""How long past its deadline a request may still wait for PostgreSQL to record its outcome."""


def _sql_values(values: tuple[StrEnum, ...] | type[StrEnum]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


class Job(Base):
    """One processing attempt; written for every request that passed the password check."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index("ix_jobs_created_at", "created_at"),
        sa.Index("ix_jobs_slot_created", "slot_id", "created_at"),
        sa.Index(
            "ix_jobs_pending_slot",
            "slot_id",
            "deadline_at",
            postgresql_where=sa.text(f"status = '{JobStatus.PENDING}'"),
        ),
        sa.Index(
            "ix_jobs_pending_provider",
            "provider",
            "deadline_at",
            postgresql_where=sa.text(f"status = '{JobStatus.PENDING}'"),
        ),
        sa.Index(
            "ix_jobs_pending_worker",
            "worker",
            postgresql_where=sa.text(f"status = '{JobStatus.PENDING}'"),
        ),
        sa.Index(
            "ix_jobs_live_results",
            "result_expires_at",
            postgresql_where=sa.text("result_path IS NOT NULL AND cleaned_at IS NULL"),
        ),
        sa.Index("ix_jobs_dedupe", "slot_id", "input_sha256", "created_at"),
        sa.Index(
            "ix_jobs_failed_created",
            "created_at",
            postgresql_where=sa.text(f"status IN {_sql_values(FAILED_STATUSES)}"),
        ),
        sa.Index(
            "ix_jobs_failed_slot_created",
            "slot_id",
            "created_at",
            postgresql_where=sa.text(f"status IN {_sql_values(FAILED_STATUSES)}"),
        ),
        sa.Index(
            "ix_jobs_idempotency",
            "slot_id",
            "idempotency_key",
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        ),
        sa.CheckConstraint(f"status IN {_sql_values(JobStatus)}", name="ck_jobs_status"),
        sa.CheckConstraint(f"source IN {_sql_values(JobSource)}", name="ck_jobs_source"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(sa.ForeignKey("slots.slot_id"))
    source: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default=JobStatus.PENDING)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(48))
    failure_message: Mapped[str | None] = mapped_column(sa.Text)
    provider: Mapped[str] = mapped_column(sa.String(32))
    model: Mapped[str | None] = mapped_column(sa.String(80))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(128))
    input_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    input_bytes: Mapped[int | None]
    input_mime: Mapped[str | None] = mapped_column(sa.String(32))
    client_meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    provider_ms: Mapped[int | None]
    result_path: Mapped[str | None] = mapped_column(sa.String(255))
    result_mime: Mapped[str | None] = mapped_column(sa.String(32))
    result_bytes: Mapped[int | None]
    result_expires_at: Mapped[datetime | None]
    cleaned_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(sa.String(80))
    """The server process running the job while it is pending (``app.ingest.workers``)."""
    replay_of: Mapped[str | None] = mapped_column(sa.String(32))
    """For an idempotent replay: the job whose result it answered with. A replay stores no result
    of its own (``result_path`` stays empty), so galleries, downloads and the cleanup see each
    result once."""

    @validates("client_meta", "failure_message")
    def _storable(self, _key: str, value: Any) -> Any:
        return without_nul(value)

    def has_live_result(self, now: datetime) -> bool:
        """Whether a guest can still open this job's result at ``now``: the job is done, its
        result was stored, not cleaned and not past its expiry (the file never extends it).

        ``Job.live_result(now)`` is the same rule as a SQL condition.
        """
        return (
            self.produced_result
            and self.cleaned_at is None
            and self.result_expires_at is not None
            and self.result_expires_at > now
        )

    @classmethod
    def presumed_running(cls, now: SqlTime) -> sa.ColumnElement[bool]:
        """Pending jobs whose request may still be running at ``now``: they count toward the
        slot and provider limits until their request has really finished."""
        return sa.and_(cls.status == JobStatus.PENDING, cls.deadline_at > now - FINISH_GRACE)

    @classmethod
    def live_result(cls, now: SqlTime) -> sa.ColumnElement[bool]:
        """``has_live_result`` as a SQL condition, for queries."""
        return sa.and_(
            cls.status == JobStatus.DONE,
            cls.result_path.is_not(None),
            cls.result_mime.is_not(None),
            cls.cleaned_at.is_(None),
            cls.result_expires_at > now,
        )

    @property
    def produced_result(self) -> bool:
        """Whether the job ended with a stored result, live or since expired."""
        return (
            self.status == JobStatus.DONE
            and self.result_path is not None
            and self.result_mime is not None
        )

    @classmethod
    def expired_result(cls, now: datetime) -> sa.ColumnElement[bool]:
        """Jobs whose result folder is past its expiry and not yet removed (the cleanup's work)."""
        return sa.and_(
            cls.result_path.is_not(None),
            cls.cleaned_at.is_(None),
            cls.result_expires_at <= now,
        )


def interrupt_jobs(condition: sa.ColumnElement[bool], message: str, now: datetime) -> sa.Update:
    """The update that ends the pending jobs matching ``condition`` as ``interrupted``: their
    process stopped before writing an outcome."""
    return (
        sa.update(Job)
        .where(Job.status == JobStatus.PENDING, condition)
        .values(
            status=JobStatus.INTERRUPTED,
            failure_reason="interrupted",
            failure_message=message,
            finished_at=now,
        )
    )


def without_nul(value: Any) -> Any:
    """``value`` with U+0000 removed from every string in it: PostgreSQL text and JSONB cannot
    hold it, and booth fields, query strings and provider messages may carry it."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value
