"""How the stats pages word and format things: durations, rates, moments, chart data."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_datetime, format_decimal, format_percent, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.ingest.labels import JOB_STATUS_LABELS
from app.ingest.models import JobStatus
from app.stats.overview import Overview
from app.stats.rollups import HOUR

WINDOW_LABELS = {"1h": _l("1 h"), "24h": _l("24 h"), "72h": _l("72 h"), "7d": _l("7 d")}


def duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return str(_("%(value)s ms", value=format_decimal(ms)))
    return str(_("%(value)s s", value=format_decimal(ms / 1000, format="#,##0.0")))


def percent(value: float | None) -> str:
    return "—" if value is None else str(format_percent(value, format="#,##0.0%"))


def count(value: int) -> str:
    return str(format_decimal(value))


def moment(value: datetime | None) -> str:
    return "—" if value is None else str(format_datetime(value, "short"))


def bucket_label(start: datetime, bucket: timedelta) -> str:
    return str(format_time(start, "short") if bucket < HOUR else format_datetime(start, "short"))


def jobs_chart(overview: Overview) -> dict[str, Any]:
    """Chart.js data of the stacked bars; ``key`` lets stats.js colour each outcome."""
    points = overview.series
    return {
        "labels": [bucket_label(point.start, overview.bucket) for point in points],
        "datasets": [
            {
                "key": status,
                "label": str(JOB_STATUS_LABELS[status]),
                "data": [point.by_status[status] for point in points],
            }
            for status in JobStatus
        ],
    }


def latency_chart(overview: Overview) -> dict[str, Any]:
    """Chart.js data of p95 per provider, in seconds."""
    providers = [latency for latency in overview.providers if latency.p95_ms is not None]
    return {
        "labels": [latency.provider for latency in providers],
        "datasets": [
            {
                "key": "p95",
                "label": _("p95 duration, s"),
                "data": [round((latency.p95_ms or 0) / 1000, 2) for latency in providers],
            }
        ],
    }
