"""Each slot's stats over a window, and the dashboard status derived from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.ingest.models import FAILED_STATUSES, Job, JobStatus
from app.slots.models import Slot
from app.stats.rollups import (
    Counts,
    Durations,
    empty_statuses,
    histogram_percentile,
    rate,
    read_counts,
    read_durations,
    span_of,
)

FAILING_MIN_JOBS = 3
FAILING_BELOW_RATE = 0.5


@dataclass(frozen=True)
class SlotStats:
    """One slot's jobs created in the window. Rates count finished jobs only (pending ones are
    jobs, but neither success nor failure); durations are the successful jobs'; ``last_job_*``
    ignore the window."""

    slot_id: str
    jobs: int
    succeeded: int
    timeouts: int
    provider_errors: int
    success_rate: float | None
    timeout_rate: float | None
    p50_ms: int | None
    p95_ms: int | None
    last_success_at: datetime | None
    last_error_reason: str | None
    last_job_at: datetime | None
    last_job_status: str | None


def slot_stats(session: Session, since: datetime, now: datetime) -> dict[str, SlotStats]:
    """Stats of every slot for jobs created in ``[since, now]`` (zeros and Nones when none)."""
    span = span_of(since, now)
    return build_slot_stats(
        read_counts(session, span),
        read_durations(session, span),
        latest_per_slot(session, since, now),
    )


def latest_per_slot(
    session: Session, since: datetime, now: datetime
) -> list[tuple[str, datetime | None, str | None, str | None]]:
    """Each slot's latest job (any time) and the reason of its latest failure in the window."""
    last_job = (
        sa.select(Job.created_at, Job.status)
        .where(Job.slot_id == Slot.slot_id)
        .order_by(Job.created_at.desc())
        .limit(1)
        .lateral("last_job")
    )
    last_error = (
        sa.select(Job.failure_reason)
        .where(
            Job.slot_id == Slot.slot_id,
            Job.status.in_(FAILED_STATUSES),
            Job.created_at.between(since, now),
        )
        .order_by(Job.created_at.desc())
        .limit(1)
        .lateral("last_error")
    )
    statement = (
        sa.select(
            Slot.slot_id, last_job.c.created_at, last_job.c.status, last_error.c.failure_reason
        )
        .select_from(Slot)
        .outerjoin(last_job, sa.true())
        .outerjoin(last_error, sa.true())
        .order_by(Slot.slot_id)
    )
    return [(slot, at, status, reason) for slot, at, status, reason in session.execute(statement)]


def build_slot_stats(
    counts: Counts,
    durations: Durations,
    latest: Iterable[tuple[str, datetime | None, str | None, str | None]],
) -> dict[str, SlotStats]:
    stats: dict[str, SlotStats] = {}
    for slot_id, last_job_at, last_job_status, last_error_reason in latest:
        by_status = counts.slots.get(slot_id) or empty_statuses()
        total = sum(by_status.values())
        finished = total - by_status[JobStatus.PENDING]
        histogram = durations.slots.get(slot_id, {})
        stats[slot_id] = SlotStats(
            slot_id=slot_id,
            jobs=total,
            succeeded=by_status[JobStatus.DONE],
            timeouts=by_status[JobStatus.TIMEOUT],
            provider_errors=counts.provider_errors.get(slot_id, 0),
            success_rate=rate(by_status[JobStatus.DONE], finished),
            timeout_rate=rate(by_status[JobStatus.TIMEOUT], finished),
            p50_ms=histogram_percentile(histogram, 0.5),
            p95_ms=histogram_percentile(histogram, 0.95),
            last_success_at=counts.last_success.get(slot_id),
            last_error_reason=last_error_reason,
            last_job_at=last_job_at,
            last_job_status=last_job_status,
        )
    return stats


def slot_status(slot: Slot, stats: SlotStats | None, key_missing: bool, since: datetime) -> str:
    """The dashboard pill: ``off``, ``key_missing``, ``failing`` or ``ready``.

    ``failing``: the slot's latest job (if it ran since ``since``) did not succeed, or it had at
    least 3 jobs since ``since`` and fewer than half of them succeeded.
    """
    if not slot.is_active:
        return "off"
    if key_missing:
        return "key_missing"
    if stats is not None:
        last_failed = (
            stats.last_job_at is not None
            and stats.last_job_at >= since
            and stats.last_job_status in FAILED_STATUSES
        )
        mostly_failing = (
            stats.jobs >= FAILING_MIN_JOBS
            and stats.success_rate is not None
            and stats.success_rate < FAILING_BELOW_RATE
        )
        if last_failed or mostly_failing:
            return "failing"
    return "ready"
