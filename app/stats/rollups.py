"""A window's job counts and duration histograms, read from the hourly rollups and the job rows.

Whole hours of a window are read from the hourly rollups the triggers of migration 0002 keep;
only the partial hours at its edges (or all of a window of two hours or less) come from the job
rows. So a page costs a few small queries whatever the number of jobs. Durations are the
successful jobs' and their percentiles come from a log-scale histogram (buckets 10 % wide,
interpolated within the bucket), exact to a few percent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.ingest.models import Job, JobStatus
from app.stats.models import JobDurationsHourly, JobStatsHourly

PROVIDER_ERROR_PATTERN = "provider\\_%"
DURATION_RATIO = 1.1
"""The histogram's bucket k holds durations in [RATIO**k, RATIO**(k+1)) ms (migration 0002)."""

HOUR = timedelta(hours=1)
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
"""Buckets of the jobs-over-time series start on multiples of their width from this instant."""
RAW_WINDOW = timedelta(hours=2)
"""Windows up to this long are read from the job rows alone, in 5-minute buckets."""
BUCKET_WIDTHS = (
    (RAW_WINDOW, timedelta(minutes=5)),
    (timedelta(hours=30), HOUR),
    (timedelta(hours=90), timedelta(hours=3)),
)
LONGEST_BUCKET = timedelta(hours=6)


@dataclass(frozen=True)
class Span:
    """A window split into rollup hours ``[full_start, full_end)`` and raw edges around them."""

    since: datetime
    now: datetime
    bucket: timedelta
    full_start: datetime
    full_end: datetime


@dataclass(frozen=True)
class Counts:
    """A window's jobs by series bucket and status, and by slot and status."""

    series: dict[datetime, dict[str, int]]
    slots: dict[str, dict[str, int]]
    provider_errors: dict[str, int]
    last_success: dict[str, datetime]


@dataclass(frozen=True)
class Durations:
    """Histograms of a window's successful jobs, per slot and per provider."""

    slots: dict[str, dict[int, int]]
    providers: dict[str, dict[int, int]]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def empty_statuses() -> dict[str, int]:
    return dict.fromkeys(JobStatus, 0)


def bucket_width(window: timedelta) -> timedelta:
    """5 min up to 2 h, then 1 h, 3 h and 6 h: at most 30 bars."""
    for longest, width in BUCKET_WIDTHS:
        if window <= longest:
            return width
    return LONGEST_BUCKET


def floor_to(moment: datetime, width: timedelta) -> datetime:
    return ORIGIN + (moment - ORIGIN) // width * width


def span_of(since: datetime, now: datetime) -> Span:
    bucket = bucket_width(now - since)
    full_start = floor_to(since, HOUR)
    if full_start < since:
        full_start += HOUR
    full_end = floor_to(now, HOUR)
    if bucket < HOUR or full_end <= full_start:
        full_start = full_end = now
    return Span(since, now, bucket, full_start, full_end)


def bucket_starts(span: Span) -> list[datetime]:
    start, last = floor_to(span.since, span.bucket), floor_to(span.now, span.bucket)
    return [start + index * span.bucket for index in range((last - start) // span.bucket + 1)]


def raw_edges(span: Span) -> list[sa.ColumnElement[bool]]:
    """The job rows outside the rollup hours, as two plain ranges of the created_at index."""
    return [
        (Job.created_at >= span.since) & (Job.created_at < span.full_start),
        (Job.created_at >= span.full_end) & (Job.created_at <= span.now),
    ]


def is_provider_error() -> sa.ColumnElement[bool]:
    """As the rollup trigger: a failed job without a reason is not a provider error."""
    matches = (Job.status == JobStatus.FAILED) & Job.failure_reason.like(PROVIDER_ERROR_PATTERN)
    return sa.func.coalesce(matches, sa.false())


def duration_bucket() -> sa.ColumnElement[int]:
    ratio = sa.literal(DURATION_RATIO, sa.Float)
    log_ms = sa.func.ln(sa.func.greatest(Job.duration_ms, 1)) / sa.func.ln(ratio)
    return sa.cast(sa.func.floor(log_ms), sa.SmallInteger)


def date_bin(
    width: timedelta, column: sa.ColumnElement[datetime] | InstrumentedAttribute[datetime]
) -> sa.ColumnElement[datetime]:
    return sa.func.date_bin(width, column, sa.literal(ORIGIN, sa.DateTime(timezone=True)))


def read_counts(session: Session, span: Span) -> Counts:
    """One query: each part summed by bucket, slot, status and flag, then grouping sets."""
    hourly = JobStatsHourly
    rollup_keys = (
        date_bin(span.bucket, hourly.hour).label("bucket"),
        hourly.slot_id,
        hourly.status,
        hourly.provider_error,
    )
    parts: list[sa.Select[*tuple[Any, ...]]] = [
        sa.select(
            *rollup_keys,
            sa.func.sum(hourly.jobs).label("jobs"),
            sa.func.max(hourly.last_finished_at).label("last_finished_at"),
        )
        .where(hourly.hour >= span.full_start, hourly.hour < span.full_end)
        .group_by(*rollup_keys)
    ]
    raw_keys = (
        date_bin(span.bucket, Job.created_at).label("bucket"),
        Job.slot_id,
        Job.status,
        is_provider_error().label("provider_error"),
    )
    for edge in raw_edges(span):
        parts.append(
            sa.select(
                *raw_keys,
                sa.func.count().label("jobs"),
                sa.func.max(Job.finished_at).label("last_finished_at"),
            )
            .where(edge)
            .group_by(*raw_keys)
        )
    rows = sa.union_all(*parts).subquery()
    c = rows.c
    statement = sa.select(
        c.bucket,
        c.slot_id,
        c.status,
        c.provider_error,
        sa.cast(sa.func.sum(c.jobs), sa.Integer),
        sa.func.max(c.last_finished_at),
    ).group_by(
        sa.func.grouping_sets(
            sa.tuple_(c.bucket, c.status), sa.tuple_(c.slot_id, c.status, c.provider_error)
        )
    )
    counts = Counts(
        series={start: empty_statuses() for start in bucket_starts(span)},
        slots=defaultdict(empty_statuses),
        provider_errors=defaultdict(int),
        last_success={},
    )
    for bucket, slot_id, status, provider_error, jobs, last_finished_at in session.execute(
        statement
    ):
        if slot_id is None:
            counts.series.setdefault(bucket, empty_statuses())[status] += jobs
            continue
        counts.slots[slot_id][status] += jobs
        if provider_error:
            counts.provider_errors[slot_id] += jobs
        if status == JobStatus.DONE and last_finished_at is not None:
            known = counts.last_success.get(slot_id, last_finished_at)
            counts.last_success[slot_id] = max(known, last_finished_at)
    return counts


def read_durations(session: Session, span: Span) -> Durations:
    """One query: each part summed by slot, provider and bucket, then grouping sets."""
    hourly = JobDurationsHourly
    rollup_keys = (hourly.slot_id, hourly.provider, hourly.bucket)
    parts: list[sa.Select[*tuple[Any, ...]]] = [
        sa.select(*rollup_keys, sa.func.sum(hourly.jobs).label("jobs"))
        .where(hourly.hour >= span.full_start, hourly.hour < span.full_end)
        .group_by(*rollup_keys)
    ]
    raw_keys = (Job.slot_id, Job.provider, duration_bucket().label("bucket"))
    for edge in raw_edges(span):
        parts.append(
            sa.select(*raw_keys, sa.func.count().label("jobs"))
            .where(edge, Job.status == JobStatus.DONE, Job.duration_ms.is_not(None))
            .group_by(*raw_keys)
        )
    rows = sa.union_all(*parts).subquery()
    c = rows.c
    statement = sa.select(
        c.slot_id, c.provider, c.bucket, sa.cast(sa.func.sum(c.jobs), sa.Integer)
    ).group_by(
        sa.func.grouping_sets(sa.tuple_(c.slot_id, c.bucket), sa.tuple_(c.provider, c.bucket))
    )
    durations = Durations(slots=defaultdict(dict), providers=defaultdict(dict))
    for slot_id, provider, bucket, jobs in session.execute(statement):
        if slot_id is None:
            durations.providers[provider][bucket] = jobs
        else:
            durations.slots[slot_id][bucket] = jobs
    return durations


def histogram_percentile(histogram: dict[int, int], fraction: float) -> int | None:
    """Like ``percentile_cont``: the n jobs of a bucket lie evenly (on the log scale) inside it."""
    buckets = sorted((bucket, jobs) for bucket, jobs in histogram.items() if jobs > 0)
    total = sum(jobs for _, jobs in buckets)
    if not total:
        return None

    def value_at(index: int) -> float:
        for bucket, jobs in buckets:
            if index < jobs:
                return float(DURATION_RATIO ** (bucket + (index + 0.5) / jobs))
            index -= jobs
        raise IndexError(index)

    rank = fraction * (total - 1)
    low, high = math.floor(rank), math.ceil(rank)
    low_value = value_at(low)
    return round(low_value + (rank - low) * (value_at(high) - low_value))
