"""Admin pages of the stats domain: the stats page, the jobs log and a job's detail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask_babel import gettext as _
from htmx_flask import request
from pydantic import ValidationError
from sqlalchemy import select

from app import db
from app.auth.guard import require_admin_session
from app.db import utcnow
from app.htmx import render_page
from app.ingest.errors import FAILURES
from app.ingest.models import JobSource, JobStatus
from app.slots.models import Slot
from app.stats import display
from app.stats.joblog import Cursor, CursorInvalid, find_job, list_jobs
from app.stats.page import stats_page
from app.stats.schemas import JOB_FILTER_WORDING, JobFilterQuery
from app.urls import result_links
from app.validation import field_messages

bp = Blueprint("stats", __name__, url_prefix="/admin")
bp.before_request(require_admin_session)

WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "72h": timedelta(hours=72),
    "7d": timedelta(days=7),
}
DEFAULT_WINDOW = "24h"
FILTER_FIELDS = tuple(JobFilterQuery.model_fields)

for name in ("duration", "percent", "count", "moment"):
    bp.add_app_template_filter(getattr(display, name), f"stats_{name}")


def slot_names() -> dict[str, str]:
    statement = select(Slot.slot_id, Slot.display_name).order_by(Slot.slot_id)
    return dict(db.session().execute(statement).all())


def labels() -> dict[str, Any]:
    return {
        "reason_messages": {reason: message for reason, (_status, message) in FAILURES.items()},
    }


@bp.get("/stats")
def page() -> Response:
    window = request.args.get("window", DEFAULT_WINDOW)
    unknown_window = window not in WINDOWS
    if unknown_window:
        window = DEFAULT_WINDOW
    now = utcnow()
    stats = stats_page(db.session(), now - WINDOWS[window], now)
    context = {
        "window": window,
        "windows": display.WINDOW_LABELS,
        "unknown_window": unknown_window,
        "stats": stats,
        "slot_names": slot_names(),
        "jobs_chart": display.jobs_chart(stats.overview),
        "latency_chart": display.latency_chart(stats.overview),
        **labels(),
    }
    return render_page("stats/page.html", "stats_content", 200, **context)


@bp.get("/jobs")
def jobs() -> Response:
    values = {field: request.args.get(field, "").strip() for field in FILTER_FIELDS}
    errors: dict[str, str] = {}
    query = None
    try:
        query = JobFilterQuery.model_validate(
            {key: value for key, value in values.items() if value}
        )
    except ValidationError as invalid:
        errors = filter_errors(invalid)
    try:
        after, before = read_cursor("after"), read_cursor("before")
    except CursorInvalid:
        after = before = None
        errors["page"] = _("This page link is broken; start again from the first page.")
    page = None
    if query is not None and not errors:
        page = list_jobs(db.session(), query.filters(), after=after, before=before)
    context = {
        "values": values,
        "filters": {key: value for key, value in values.items() if value},
        "errors": errors,
        "page": page,
        "slot_names": slot_names(),
        "statuses": list(JobStatus),
        "sources": list(JobSource),
        **labels(),
    }
    return render_page("stats/jobs.html", "jobs_body", 422 if errors else 200, **context)


def read_cursor(name: str) -> Cursor | None:
    value = request.args.get(name)
    return Cursor.decode(value) if value else None


def filter_errors(invalid: ValidationError) -> dict[str, str]:
    """One message per field; the filters' order rule is shown at the end of the range."""
    errors = field_messages(invalid, wording=JOB_FILTER_WORDING)
    if "form" in errors:
        errors["created_to"] = errors.pop("form")
    return errors


@bp.get("/jobs/<job_id>")
def job_detail(job_id: str) -> str:
    job = find_job(db.session(), job_id)
    if job is None:
        abort(404, description=_("There is no job with this id."))
    live = job.has_live_result(utcnow())
    return render_template(
        "stats/job.html",
        job=job,
        links=result_links(job.id) if live else None,
        slot_name=slot_names().get(job.slot_id, job.slot_id),
        **labels(),
    )
