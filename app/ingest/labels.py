"""What a person reads for a job's status and source, in their language (pages and Python alike)."""

from __future__ import annotations

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
