"""What a person reads for a job's status and source and for a size in bytes, in their language.

``init_app`` offers the tables and the formatter to every template, so pages and Python code
word these things the same way.
"""

from __future__ import annotations

from babel import numbers
from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.ingest.models import JobSource, JobStatus

JOB_STATUS_LABELS = {
    JobStatus.PENDING: _l("Running"),
    JobStatus.DONE: _l("Done"),
    JobStatus.FAILED: _l("Failed"),
    JobStatus.TIMEOUT: _l("Timed out"),
    JobStatus.INTERRUPTED: _l("Interrupted"),
}
JOB_SOURCE_LABELS = {
    JobSource.INGEST: _l("Booth"),
    JobSource.UI_TEST: _l("Test run"),
    JobSource.TELEGRAM: _l("Telegram"),
    JobSource.API: _l("API"),
}
BYTE_UNITS = (_l("B"), _l("KB"), _l("MB"), _l("GB"), _l("TB"))


def format_bytes(size: int) -> str:
    """``"512 B"``, ``"3.4 MB"`` (``"3,4 МБ"`` in Russian), in binary steps of 1024.

    Outside a request (the cleanup command's summary line) it is English.
    """
    amount, unit = float(size), 0
    while amount >= 1024 and unit < len(BYTE_UNITS) - 1:
        amount, unit = amount / 1024, unit + 1
    pattern = "#,##0" if unit == 0 else "#,##0.0"
    number = numbers.format_decimal(amount, format=pattern, locale=get_locale() or "en")
    return f"{number} {BYTE_UNITS[unit]}"


def init_app(app: Flask) -> None:
    app.jinja_env.globals["job_status_labels"] = JOB_STATUS_LABELS
    app.jinja_env.globals["job_source_labels"] = JOB_SOURCE_LABELS
    app.jinja_env.filters["format_bytes"] = format_bytes
