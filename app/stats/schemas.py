"""The stats and jobs API models; the jobs page validates its filters with ``JobFilterQuery``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.ingest.models import JobSource, JobStatus
from app.slots.models import slot_ids
from app.stats.joblog import Cursor, CursorInvalid, JobFilters
from app.stats.overview import Overview
from app.stats.slots import SlotStats

MAX_WINDOW_MINUTES = 7 * 24 * 60
DATE_YEARS = (2000, 2200)
JOB_FILTER_WORDING = dict.fromkeys(
    ("slot_id", "status", "source"), _l("Choose a value from the list.")
)
"""The job filters' own words (a choice list) where the validation table's would read oddly."""


class WindowQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_minutes: int = Field(1440, ge=1, le=MAX_WINDOW_MINUTES)


class JobFilterQuery(BaseModel):
    """Times without an offset are UTC; ``created_to`` is exclusive."""

    model_config = ConfigDict(extra="forbid")

    slot_id: str | None = None
    status: JobStatus | None = None
    source: JobSource | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    @field_validator("slot_id")
    @classmethod
    def known_slot(cls, value: str | None) -> str | None:
        if value is not None and value not in slot_ids():
            raise ValueError("not one of slot-001 … slot-015")
        return value

    @field_validator("created_from", "created_to")
    @classmethod
    def utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        first, last = DATE_YEARS
        if not first <= value.year <= last:
            raise ValueError(
                _(
                    "Enter a date between %(first)s and %(last)s.",
                    first=DATE_YEARS[0],
                    last=DATE_YEARS[1],
                )
            )
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def ordered(self) -> JobFilterQuery:
        if self.created_from and self.created_to and self.created_to <= self.created_from:
            raise ValueError(_("The end must be later than the start."))
        return self

    def filters(self) -> JobFilters:
        return JobFilters(
            slot_id=self.slot_id,
            status=self.status,
            source=self.source,
            created_from=self.created_from,
            created_to=self.created_to,
        )


class JobsQuery(JobFilterQuery):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")

    @field_validator("cursor")
    @classmethod
    def readable(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Cursor.decode(value)
            except CursorInvalid:
                raise ValueError("not a cursor this API returned") from None
        return value


class StatusCounts(BaseModel):
    pending: int
    done: int
    failed: int
    timeout: int
    interrupted: int


class TotalsOut(BaseModel):
    jobs: int
    succeeded: int
    timeouts: int
    provider_errors: int
    success_rate: float | None
    by_status: StatusCounts
    storage_bytes: int = Field(description="live results' files plus template images")


class SeriesPointOut(BaseModel):
    start: datetime
    counts: StatusCounts


class ProviderLatencyOut(BaseModel):
    provider: str
    succeeded: int
    p50_ms: int | None
    p95_ms: int | None


class OverviewOut(BaseModel):
    window_minutes: int
    since: datetime
    until: datetime
    bucket_minutes: int
    totals: TotalsOut
    series: list[SeriesPointOut]
    providers: list[ProviderLatencyOut] = Field(description="durations of successful jobs")

    @classmethod
    def build(cls, window_minutes: int, overview: Overview) -> OverviewOut:
        totals = overview.totals
        return cls(
            window_minutes=window_minutes,
            since=overview.since,
            until=overview.now,
            bucket_minutes=int(overview.bucket.total_seconds() // 60),
            totals=TotalsOut(
                jobs=totals.jobs,
                succeeded=totals.succeeded,
                timeouts=totals.timeouts,
                provider_errors=totals.provider_errors,
                success_rate=totals.success_rate,
                by_status=StatusCounts(**totals.by_status),
                storage_bytes=totals.storage_bytes,
            ),
            series=[
                SeriesPointOut(start=point.start, counts=StatusCounts(**point.by_status))
                for point in overview.series
            ],
            providers=[ProviderLatencyOut(**vars(latency)) for latency in overview.providers],
        )


class SlotStatsOut(BaseModel):
    slot_id: str
    jobs: int
    succeeded: int
    timeouts: int
    provider_errors: int
    success_rate: float | None
    timeout_rate: float | None
    p50_ms: int | None = Field(description="successful jobs")
    p95_ms: int | None = Field(description="successful jobs")
    last_success_at: datetime | None
    last_error_reason: str | None
    last_job_at: datetime | None = Field(description="regardless of the window")
    last_job_status: str | None

    @classmethod
    def build(cls, stats: SlotStats) -> SlotStatsOut:
        return cls(**vars(stats))


class SlotStatsList(BaseModel):
    window_minutes: int
    since: datetime
    until: datetime
    items: list[SlotStatsOut]


class JobOut(BaseModel):
    """A job as admins see it, client metadata included (the booth's extra form fields, the
    password removed); the public ``GET /api/jobs/{job_id}`` leaves that out."""

    job_id: str
    slot_id: str
    source: str
    status: str
    failure_reason: str | None
    failure_message: str | None
    provider: str
    model: str | None
    input_bytes: int | None
    input_mime: str | None
    input_sha256: str | None
    client_meta: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    provider_ms: int | None
    result_mime: str | None
    result_bytes: int | None
    result_expires_at: datetime | None
    result_live: bool


class JobList(BaseModel):
    items: list[JobOut]
    next_cursor: str | None = Field(description="pass as cursor for the next (older) page")
