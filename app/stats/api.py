"""JSON API of the stats domain (admin bearer token)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, make_response
from spectree import Response as SpecResponse

from app import db
from app.api import AUTH_ERRORS, BEARER, api_blueprint, spec
from app.db import utcnow
from app.ingest.models import Job
from app.stats.joblog import Cursor, list_jobs
from app.stats.overview import read_overview
from app.stats.schemas import (
    JobList,
    JobOut,
    JobsQuery,
    OverviewOut,
    SlotStatsList,
    SlotStatsOut,
    WindowQuery,
)
from app.stats.slots import slot_stats

bp = api_blueprint("stats_api", __name__)


def window(query: WindowQuery) -> tuple[datetime, datetime]:
    now = utcnow()
    return now - timedelta(minutes=query.window_minutes), now


@bp.get("/stats/overview")
@spec.validate(
    query=WindowQuery,
    resp=SpecResponse(HTTP_200=OverviewOut, **AUTH_ERRORS),
    tags=["stats"],
    security=BEARER,
)
def overview(query: WindowQuery) -> Response:
    """Totals, jobs over time by outcome, and successful jobs' durations per provider."""
    since, now = window(query)
    body = OverviewOut.build(query.window_minutes, read_overview(db.session(), since, now))
    return make_response(body.model_dump(mode="json"))


@bp.get("/stats/slots")
@spec.validate(
    query=WindowQuery,
    resp=SpecResponse(HTTP_200=SlotStatsList, **AUTH_ERRORS),
    tags=["stats"],
    security=BEARER,
)
def slots(query: WindowQuery) -> Response:
    """Every slot's jobs, rates and durations in the window."""
    since, now = window(query)
    stats = slot_stats(db.session(), since, now)
    body = SlotStatsList(
        window_minutes=query.window_minutes,
        since=since,
        until=now,
        items=[SlotStatsOut.build(stats[slot_id]) for slot_id in sorted(stats)],
    )
    return make_response(body.model_dump(mode="json"))


@bp.get("/jobs")
@spec.validate(
    query=JobsQuery,
    resp=SpecResponse(HTTP_200=JobList, **AUTH_ERRORS),
    tags=["jobs"],
    security=BEARER,
)
def jobs(query: JobsQuery) -> Response:
    """The jobs log, newest first, with client metadata (admins only); follow ``next_cursor``."""
    after = Cursor.decode(query.cursor) if query.cursor else None
    page = list_jobs(db.session(), query.filters(), after=after, limit=query.limit)
    now = utcnow()
    body = JobList(
        items=[job_out(job, now) for job in page.jobs],
        next_cursor=page.older.encode() if page.older else None,
    )
    return make_response(body.model_dump(mode="json"))


def job_out(job: Job, now: datetime) -> JobOut:
    return JobOut(
        job_id=job.id,
        slot_id=job.slot_id,
        source=job.source,
        status=job.status,
        failure_reason=job.failure_reason,
        failure_message=job.failure_message,
        provider=job.provider,
        model=job.model,
        input_bytes=job.input_bytes,
        input_mime=job.input_mime,
        input_sha256=job.input_sha256,
        client_meta=job.client_meta,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        duration_ms=job.duration_ms,
        provider_ms=job.provider_ms,
        result_mime=job.result_mime,
        result_bytes=job.result_bytes,
        result_expires_at=job.result_expires_at,
        result_live=job.has_live_result(now),
    )
