"""Job statistics for the admin stats page, the dashboard and the API.

Whole hours of a window are read from the hourly rollups the triggers of migration 0002 keep;
only the partial hours at its edges (or all of a window of two hours or less) come from the job
rows. So a page costs a few small queries whatever the number of jobs. Durations are the
successful jobs' and their percentiles come from a log-scale histogram (buckets 10 % wide,
interpolated within the bucket), exact to a few percent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.ingest.models import FAILED_STATUSES, Job, JobStatus
from app.slots.models import Slot, TemplateMedia
from app.stats.models import JobDurationsHourly, JobStatsHourly, MediaUsage

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
RECENT_FAILURES = 20


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


@dataclass(frozen=True)
class Totals:
    jobs: int
    by_status: dict[str, int]
    provider_errors: int
    storage_bytes: int

    @property
    def succeeded(self) -> int:
        return self.by_status[JobStatus.DONE]

    @property
    def timeouts(self) -> int:
        return self.by_status[JobStatus.TIMEOUT]

    @property
    def success_rate(self) -> float | None:
        return rate(self.succeeded, self.jobs - self.by_status[JobStatus.PENDING])


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime
    by_status: dict[str, int]


@dataclass(frozen=True)
class ProviderLatency:
    provider: str
    succeeded: int
    p50_ms: int | None
    p95_ms: int | None


@dataclass(frozen=True)
class Overview:
    since: datetime
    now: datetime
    bucket: timedelta
    totals: Totals
    series: list[SeriesPoint]
    providers: list[ProviderLatency]


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


def slot_stats(session: Session, since: datetime, now: datetime) -> dict[str, SlotStats]:
    """Stats of every slot for jobs created in ``[since, now]`` (zeros and Nones when none)."""
    span = span_of(since, now)
    return build_slot_stats(
        read_counts(session, span),
        read_durations(session, span),
        latest_per_slot(session, since, now),
    )


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


def storage_bytes(session: Session) -> int:
    """Live result files (payload, preview, source) plus every slot's template images."""
    results = sa.select(sa.func.coalesce(sa.func.sum(MediaUsage.bytes), 0)).scalar_subquery()
    templates = sa.select(
        sa.func.coalesce(sa.func.sum(TemplateMedia.size_bytes), 0)
    ).scalar_subquery()
    return int(session.scalar(sa.select(results + templates)) or 0)


def empty_statuses() -> dict[str, int]:
    return dict.fromkeys(JobStatus, 0)


def build_overview(span: Span, counts: Counts, durations: Durations, storage: int) -> Overview:
    by_status = empty_statuses()
    for statuses in counts.slots.values():
        for status, jobs in statuses.items():
            by_status[status] += jobs
    providers = [
        ProviderLatency(
            provider=provider,
            succeeded=sum(histogram.values()),
            p50_ms=histogram_percentile(histogram, 0.5),
            p95_ms=histogram_percentile(histogram, 0.95),
        )
        for provider, histogram in sorted(durations.providers.items())
        if sum(histogram.values()) > 0
    ]
    return Overview(
        since=span.since,
        now=span.now,
        bucket=span.bucket,
        totals=Totals(
            sum(by_status.values()), by_status, sum(counts.provider_errors.values()), storage
        ),
        series=[SeriesPoint(start, statuses) for start, statuses in sorted(counts.series.items())],
        providers=providers,
    )


def bucket_starts(span: Span) -> list[datetime]:
    start, last = floor_to(span.since, span.bucket), floor_to(span.now, span.bucket)
    return [start + index * span.bucket for index in range((last - start) // span.bucket + 1)]


def overview(session: Session, since: datetime, now: datetime) -> Overview:
    span = span_of(since, now)
    return build_overview(
        span, read_counts(session, span), read_durations(session, span), storage_bytes(session)
    )


@dataclass(frozen=True)
class StatsPage:
    overview: Overview
    slots: dict[str, SlotStats]
    failures: list[Job]


def stats_page(session: Session, since: datetime, now: datetime) -> StatsPage:
    """Everything the stats page shows, with each rollup read once."""
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
    statement = (
        sa.select(Job)
        .where(Job.status.in_(FAILED_STATUSES), Job.created_at.between(since, now))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))
