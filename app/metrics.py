"""The job metrics ``/metrics`` exports, and the two calls the pipeline makes to record them.

The metric objects belong to no registry: ``app.ops.metrics`` registers them in each app's own
registry, or, under gunicorn, ``prometheus_client`` writes them to the multiprocess folder
(``PROMETHEUS_MULTIPROC_DIR``) where every worker's values are summed at scrape time.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

DURATION_BUCKETS = (0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 90)
"""Seconds: resolves the 1–60 s range of a synchronous booth request."""

JOBS = Counter(
    "photochanger_jobs",
    "Jobs finished, by outcome: done or the failure_reason.",
    ["slot", "provider", "source", "outcome"],
    registry=None,
)
JOB_DURATION = Histogram(
    "photochanger_job_duration_seconds",
    "From the request's arrival to the job's final state.",
    ["provider", "outcome"],
    buckets=DURATION_BUCKETS,
    registry=None,
)
PROVIDER_DURATION = Histogram(
    "photochanger_provider_duration_seconds",
    "The provider call alone, whatever its outcome.",
    ["provider"],
    buckets=DURATION_BUCKETS,
    registry=None,
)
PROVIDER_ERRORS = Counter(
    "photochanger_provider_errors",
    "Jobs that failed after the provider was called, by failure_reason.",
    ["provider", "failure_reason"],
    registry=None,
)
INFLIGHT_JOBS = Gauge(
    "photochanger_inflight_jobs",
    "Jobs being processed now, summed over the live workers.",
    multiprocess_mode="livesum",
    registry=None,
)
JOB_METRICS = (JOBS, JOB_DURATION, PROVIDER_DURATION, PROVIDER_ERRORS, INFLIGHT_JOBS)


class FinishedJob(Protocol):
    """What the metrics read of a job row (``app.ingest.models.Job``)."""

    @property
    def slot_id(self) -> str: ...

    @property
    def provider(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def failure_reason(self) -> str | None: ...

    @property
    def duration_ms(self) -> int | None: ...

    @property
    def provider_ms(self) -> int | None: ...


def job_started() -> None:
    INFLIGHT_JOBS.inc()


def job_finished(job: FinishedJob) -> None:
    """Count ``job`` once it has left ``pending`` (a job still pending was cut short by an
    exception that is not the pipeline's own: only the in-flight gauge drops)."""
    INFLIGHT_JOBS.dec()
    if job.status == "pending":
        return
    outcome = "done" if job.status == "done" else (job.failure_reason or str(job.status))
    JOBS.labels(job.slot_id, job.provider, job.source, outcome).inc()
    if job.duration_ms is not None:
        JOB_DURATION.labels(job.provider, outcome).observe(job.duration_ms / 1000)
    if job.provider_ms is not None:
        PROVIDER_DURATION.labels(job.provider).observe(job.provider_ms / 1000)
        if outcome != "done":
            PROVIDER_ERRORS.labels(job.provider, outcome).inc()
