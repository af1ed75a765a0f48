"""Gunicorn's config module (``--config python:app.ops.gunicorn_hooks``): the hooks that keep the
Prometheus multiprocess folder right.

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

from app.ops.serve import MULTIPROC_ENV, PRIVATE_METRICS_PREFIX


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    folder = Path(os.environ.get(MULTIPROC_ENV) or ".")
    if folder.name.startswith(PRIVATE_METRICS_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)
