from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

JOB_SOURCES = ("ingest", "ui_test", "telegram", "api")
JOB_STATUSES = ("pending", "done", "failed", "timeout", "interrupted")


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
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index(
            "ix_jobs_pending_provider",
            "provider",
            "deadline_at",
            postgresql_where=sa.text("status = 'pending'"),
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
            postgresql_where=sa.text("status IN ('failed', 'timeout', 'interrupted')"),
        ),
        sa.Index(
            "ix_jobs_failed_slot_created",
            "slot_id",
            "created_at",
            postgresql_where=sa.text("status IN ('failed', 'timeout', 'interrupted')"),
        ),
        sa.Index(
            "ix_jobs_idempotency",
            "slot_id",
            "idempotency_key",
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        ),
        sa.CheckConstraint(f"status IN {JOB_STATUSES}", name="ck_jobs_status"),
        sa.CheckConstraint(f"source IN {JOB_SOURCES}", name="ck_jobs_source"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(sa.ForeignKey("slots.slot_id"))
    source: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
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


def has_live_result(now: datetime) -> sa.ColumnElement[bool]:
    """Jobs whose result a guest can still open at ``now``."""
    return sa.and_(
        Job.status == "done",
        Job.result_path.is_not(None),
        Job.result_mime.is_not(None),
        Job.cleaned_at.is_(None),
        Job.result_expires_at > now,
    )
