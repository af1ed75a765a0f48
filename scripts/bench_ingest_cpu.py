"""Server CPU per booth request and per provider answer, for ``scripts/bench_ingest.py``.

Wall times on a shared 2-core machine swing with whatever else runs; the CPU the server spends
does not. A request's CPU is the growth of user + system time of the whole gunicorn process tree
(master and workers) over a run of sequential uploads, divided by their number. A provider
answer's CPU is what the server logs for it: ``answer_cpu_ms`` of ``ingest.done`` (the thread's
CPU from the provider call's answer to the committed result).
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

import psutil
from bench_ingest_setup import App, expect_ok, upload
from bench_report import Row, percentile
from PIL import Image

CPU_WARMUPS = 5
CPU_UPLOADS = 40
REFERENCE_RUNS = 5


def reference_row(photo: bytes) -> Row:
    """How fast the machine is right now: the least CPU one full decode of ``photo`` takes in
    this process (other tenants of a shared machine slow every figure down alike)."""
    spent = []
    for _ in range(REFERENCE_RUNS):
        started = time.process_time()
        with Image.open(io.BytesIO(photo)) as image:
            image.load()
        spent.append(time.process_time() - started)
    return Row(
        "reference: one full decode of the 5 MB photo, bench process",
        "-",
        f"{min(spent) * 1000:.0f} ms",
        None,
    )


def tree_cpu_seconds(app: App) -> float:
    """User + system CPU seconds of gunicorn's master and all its workers so far."""
    master = psutil.Process(app.process.pid)
    total = 0.0
    for process in (master, *master.children(recursive=True)):
        times = process.cpu_times()
        total += times.user + times.system
    return total


def cpu_per_request(
    app: App, slot_id: str, photo_of: Callable[[], bytes]
) -> tuple[float, list[str]]:
    """Server CPU milliseconds per upload of ``photo_of()`` to ``slot_id``, and the job ids."""
    url = app.ingest_url(slot_id)
    for _ in range(CPU_WARMUPS):
        expect_ok(upload(url, photo_of()))
    job_ids = []
    before = tree_cpu_seconds(app)
    for _ in range(CPU_UPLOADS):
        job_ids.append(expect_ok(upload(url, photo_of())).headers["x-job-id"])
    spent = tree_cpu_seconds(app) - before
    return spent * 1000 / CPU_UPLOADS, job_ids


def request_row(label: str, target_ms: float | None, cpu_ms: float) -> Row:
    if target_ms is None:
        return Row(label, "-", f"{cpu_ms:.0f} ms", None)
    return Row(label, f"<= {target_ms:.0f} ms", f"{cpu_ms:.0f} ms", cpu_ms <= target_ms)


def answer_row(app: App, job_ids: list[str], target_ms: float) -> Row:
    """``answer_cpu_ms`` of the given jobs, as the server logged them."""
    wanted = set(job_ids)
    spent = [
        float(event["answer_cpu_ms"])
        for event in app.log_events()
        if event.get("event") == "ingest.done"
        and event.get("job_id") in wanted
        and "answer_cpu_ms" in event
    ]
    if not spent:
        return Row("CPU per provider answer, 1024x1024 PNG", f"<= {target_ms:.0f} ms", "n/a", False)
    median = statistics.median(spent)
    return Row(
        "CPU per provider answer, 1024x1024 PNG -> JPEG",
        f"<= {target_ms:.0f} ms",
        f"p50 {median:.1f} ms, p95 {percentile(spent, 95):.1f} ms",
        median <= target_ms,
    )
