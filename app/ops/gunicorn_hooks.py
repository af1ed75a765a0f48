"""Gunicorn's config module (``--config python:app.ops.gunicorn_hooks``): the hooks that keep the
Prometheus multiprocess folder right and end the jobs of a worker that died.

``photochanger serve`` hands gunicorn an empty ``PROMETHEUS_MULTIPROC_DIR``
(``app.ops.serve.metrics_dir_env``), where each worker writes its metric values and ``/metrics``
sums them. A worker that exits is marked dead, so its in-flight gauge stops counting while its
counters stay in the totals; a private folder serve made is removed when gunicorn exits.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from app.config import Config
from app.ingest.workers import interrupt_jobs_of_worker, name_this_server
from app.ops.gunicorn_logging import StructuredLogger
from app.ops.serve import MULTIPROC_ENV, PRIVATE_METRICS_PREFIX

logger_class = StructuredLogger
"""Gunicorn's own lines and its one access event per request, rendered like the app's logs."""


def on_starting(server: Any) -> None:
    """Name this server before its workers fork, so their jobs tell it from any other server."""
    name_this_server()


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited: its metrics stop counting as live, and jobs it left pending (it was killed
    mid-request) are ended as interrupted at once, freeing their places in the limits.

    Runs in gunicorn's main loop, where an exception would stop the whole server: any failure
    is logged and left to the cleanup."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
    try:
        database_url = Config().database_url
        if not database_url:
            return
        interrupted = interrupt_jobs_of_worker(database_url, worker.pid)
    except Exception as error:
        server.log.warning(
            "Could not end the pending jobs of exited worker %s (%s); the cleanup will.",
            worker.pid,
            type(error).__name__,
        )
        return
    if interrupted:
        server.log.warning(
            "Exited worker %s left %s job(s) pending: interrupted.", worker.pid, interrupted
        )


def on_exit(server: Any) -> None:
    folder = Path(os.environ.get(MULTIPROC_ENV) or ".")
    if folder.name.startswith(PRIVATE_METRICS_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)
