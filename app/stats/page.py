"""Everything the admin stats page shows, with each rollup read once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.ingest.models import FAILED_STATUSES, Job
from app.stats.overview import Overview, build_overview, storage_bytes
from app.stats.rollups import read_counts, read_durations, span_of
from app.stats.slots import SlotStats, build_slot_stats, latest_per_slot

RECENT_FAILURES = 20


@dataclass(frozen=True)
class StatsPage:
    overview: Overview
    slots: dict[str, SlotStats]
    failures: list[Job]


def stats_page(session: Session, since: datetime, now: datetime) -> StatsPage:
    """The overview and every slot's stats from one read of the rollups, and the latest
    failures."""
    span = span_of(since, now)
    counts, durations = read_counts(session, span), read_durations(session, span)
    return StatsPage(
        overview=build_overview(span, counts, durations, storage_bytes(session)),
        slots=build_slot_stats(counts, durations, latest_per_slot(session, since, now)),
        failures=recent_failures(session, since, now),
    )


def recent_failures(
    session: Session, since: datetime, now: datetime, limit: int = RECENT_FAILURES
) -> list[Job]:
    """The latest failed jobs created in ``[since, now]``, newest first."""
    statement = (
        sa.select(Job)
        .where(Job.status.in_(FAILED_STATUSES), Job.created_at.between(since, now))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))
