"""The window's totals, jobs-over-time series and per-provider latency (stats page and API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.ingest.models import JobStatus
from app.slots.models import TemplateMedia
from app.stats.models import MediaUsage
from app.stats.rollups import (
    Counts,
    Durations,
    Span,
    empty_statuses,
    histogram_percentile,
    rate,
    read_counts,
    read_durations,
    span_of,
)


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


def read_overview(session: Session, since: datetime, now: datetime) -> Overview:
    span = span_of(since, now)
    return build_overview(
        span, read_counts(session, span), read_durations(session, span), storage_bytes(session)
    )


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


def storage_bytes(session: Session) -> int:
    """Live result files (payload, preview, source) plus every slot's template images."""
    results = sa.select(sa.func.coalesce(sa.func.sum(MediaUsage.bytes), 0)).scalar_subquery()
    templates = sa.select(
        sa.func.coalesce(sa.func.sum(TemplateMedia.size_bytes), 0)
    ).scalar_subquery()
    return int(session.scalar(sa.select(results + templates)) or 0)
