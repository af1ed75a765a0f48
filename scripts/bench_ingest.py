#!/usr/bin/env python3
"""Benchmark of booth ingest on real gunicorn: platform overhead per upload, 64 concurrent uploads
to a slow provider, a worker's memory while it receives a large upload, and the server CPU per
request (local provider and Gemini path) and per provider answer.

Starts a throw-away PostgreSQL (pgserver) in a temp dir, migrates it, and runs gunicorn with the
command line ``photochanger serve`` uses (``gunicorn_command``, default workers and threads unless
a measurement needs otherwise). Photos are sent by the raw-socket booth client of the tests, with
``Expect: 100-continue`` as DSLR Remote Pro does. Gemini is the tests' fake, answering at once
with a photo-like 1024x1024 PNG. Prints one table; not part of the test suite:

    .venv/bin/python scripts/bench_ingest.py [--only cpu,overhead,concurrency,memory]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from bench_ingest_cpu import answer_row, cpu_per_request, reference_row, request_row
from bench_ingest_setup import (
    CONCURRENT,
    GEMINI_SLOT,
    INSTANT_SLOT,
    LARGE_SLOT,
    MIB,
    PROJECT_ROOT,
    SLOW_SLOT,
    App,
    answer_png,
    describe,
    expect_ok,
    forget_calls,
    gemini_fake,
    prepare_database,
    probing,
    sample_peak_rss,
    serve,
    sized_jpeg,
    small_photo,
    unique,
    upload,
)
from bench_report import Row, load_average, percentile, print_table
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine, upgrade_database
from app.ingest.models import Job

DATABASE = "bench"
BOOTH_PHOTO = (4000, 3000, 5 * MIB)
LARGE_PHOTO = (6000, 4000, 19.5 * MIB)
BREEZE_PHOTO = (2048, 1536, 1.5 * MIB)
"""What Breeze sends with its "Max image size" set."""
PARTS = ("cpu", "overhead", "concurrency", "memory")
CPU_TARGETS_MS = {"booth": 90.0, "breeze": 40.0, "answer": 30.0}
WARMUPS = 5
SEQUENTIAL = 100
SPLIT_CENSUS_SECONDS = 2.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated measurements to run, of: {', '.join(PARTS)} (default: all)",
    )
    parts = set(parser.parse_args().only.split(","))
    if not parts <= set(PARTS):
        parser.error(f"unknown measurement: {', '.join(sorted(parts - set(PARTS)))}")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as workdir:
        rows = run(Path(workdir), parts)
    print_table(rows)
    return 0


def run(workdir: Path, parts: set[str]) -> list[Row]:
    import pgserver

    server = pgserver.get_server(workdir / "pgdata", cleanup_mode="delete")
    try:
        server.psql(f"CREATE DATABASE {DATABASE};")
        database_url: str = server.get_uri(DATABASE)
        upgrade_database(database_url)
        prepare_database(database_url, workdir / "media")
        print(f"machine: {os.cpu_count()} CPUs, load average {load_average()}")
        booth_photo = sized_jpeg(*BOOTH_PHOTO)
        large_photo = sized_jpeg(*LARGE_PHOTO)
        breeze_photo = sized_jpeg(*BREEZE_PHOTO)
        print(
            f"booth photo {describe(booth_photo)}, large photo {describe(large_photo)}, "
            f"Breeze photo {describe(breeze_photo)}"
        )
        rows: list[Row] = []
        with (
            gemini_fake(answer_png()) as gemini,
            serve(workdir, database_url, gemini=gemini) as app,
        ):
            print(f"serve: {app.workers} workers x {app.threads} threads")
            if "cpu" in parts:
                rows += measure_cpu(app, booth_photo, breeze_photo)
                forget_calls(gemini)
            if "overhead" in parts:
                rows += measure_overhead(app, database_url, booth_photo)
            if "concurrency" in parts:
                rows += measure_concurrency(app, small_photo, "640x480 photo")
                rows += measure_concurrency(app, lambda: unique(booth_photo), "5 MB photo")
        if "memory" in parts:
            with serve(workdir, database_url, workers=1) as app:
                rows += measure_upload_memory(app, large_photo)
        print(f"load average after: {load_average()}")
        return rows
    finally:
        server.cleanup()


def measure_cpu(app: App, booth_photo: bytes, breeze_photo: bytes) -> list[Row]:
    """Server CPU per sequential upload: the 5 MB photo on the local provider and on the Gemini
    path, the 2048-px photo on the Gemini path; and per Gemini answer."""
    reference = reference_row(booth_photo)
    local_ms, _ = cpu_per_request(app, INSTANT_SLOT, lambda: unique(booth_photo))
    booth_ms, booth_jobs = cpu_per_request(app, GEMINI_SLOT, lambda: unique(booth_photo))
    breeze_ms, breeze_jobs = cpu_per_request(app, GEMINI_SLOT, lambda: unique(breeze_photo))
    return [
        reference,
        request_row("CPU per booth request, 5 MB 4000x3000, local provider", None, local_ms),
        request_row(
            "CPU per booth request, 5 MB 4000x3000, Gemini path",
            CPU_TARGETS_MS["booth"],
            booth_ms,
        ),
        request_row(
            "CPU per booth request, 2048x1536 1.5 MB, Gemini path",
            CPU_TARGETS_MS["breeze"],
            breeze_ms,
        ),
        answer_row(app, booth_jobs + breeze_jobs, CPU_TARGETS_MS["answer"]),
    ]


def measure_overhead(app: App, database_url: str, photo: bytes) -> list[Row]:
    """a) 100 sequential booth uploads of the 5 MB photo to the instant provider."""
    url = app.ingest_url(INSTANT_SLOT)
    for _ in range(WARMUPS):
        expect_ok(upload(url, unique(photo)))
    walls: list[float] = []
    request_ids: dict[str, str] = {}
    for _ in range(SEQUENTIAL):
        started = time.perf_counter()
        answer = expect_ok(upload(url, unique(photo)))
        walls.append((time.perf_counter() - started) * 1000)
        request_ids[answer.headers["x-job-id"]] = answer.headers["x-request-id"]
    jobs = load_jobs(database_url, list(request_ids))
    overheads = [float(job.duration_ms or 0) - float(job.provider_ms or 0) for job in jobs]
    providers = [float(job.provider_ms or 0) for job in jobs]
    http_ms = {
        event["request_id"]: float(event["duration_ms"])
        for event in app.log_events()
        if event.get("event") == "http.request"
    }
    request_overheads = [http_ms[request_ids[job.id]] - float(job.provider_ms or 0) for job in jobs]
    return [
        Row(
            "a) overhead: job duration_ms - provider_ms",
            "p95 <= 50 ms",
            percentiles(overheads),
            percentile(overheads, 95) <= 50,
        ),
        Row(
            "a) overhead incl. body parsing: request - provider",
            "(p95 <= 50 ms)",
            percentiles(request_overheads),
            percentile(request_overheads, 95) <= 50,
        ),
        Row("a) provider_ms (local sepia)", "-", percentiles(providers), None),
        Row("a) client wall time per upload", "-", percentiles(walls), None),
    ]


def load_jobs(database_url: str, job_ids: list[str]) -> list[Job]:
    engine = make_engine(database_url, pool_size=1)
    with Session(engine) as session:
        jobs = list(session.scalars(select(Job).where(Job.id.in_(job_ids))))
    engine.dispose()
    if len(jobs) != len(job_ids):
        raise RuntimeError(f"{len(job_ids) - len(jobs)} job rows missing")
    return jobs


def measure_concurrency(app: App, photo_of: Callable[[], bytes], label: str) -> list[Row]:
    """b) 64 simultaneous uploads, one connection each, to a provider that takes 5 s."""
    photos = [photo_of() for _ in range(CONCURRENT)]
    split: list[int] = []
    with probing(app.url, ("/healthz",)) as probes:
        outcomes = post_at_once(
            app.ingest_url(SLOW_SLOT),
            photos,
            midway=lambda: split.extend(connections_per_worker(app)),
        )
    health = probes["/healthz"]
    succeeded = sum(1 for status, _ in outcomes if status == 200)
    failures = sorted({status for status, _ in outcomes if status != 200})
    latencies = sorted(seconds for _, seconds in outcomes)
    late = sum(1 for seconds in latencies if seconds > 6)
    return [
        Row(
            f"b) {CONCURRENT} at once, 5 s provider, {label}",
            f"{CONCURRENT}/{CONCURRENT} ok, wall <= 6 s",
            f"{succeeded}/{CONCURRENT} ok{f' (failed: {failures})' if failures else ''}, "
            f"wall {latencies[-1]:.2f} s (first {latencies[0]:.2f} s, {late} over 6 s; "
            f"connections per worker {'/'.join(map(str, split)) or 'n/a'})",
            succeeded == CONCURRENT and latencies[-1] <= 6,
        ),
        Row(
            f"b) /healthz during those {CONCURRENT}, {label}",
            "p95 <= 50 ms, max <= 150 ms",
            f"p50 {percentile(health, 50):.0f} ms, p95 {percentile(health, 95):.0f} ms, "
            f"max {max(health):.0f} ms ({len(health)} calls)",
            percentile(health, 95) <= 50 and max(health) <= 150,
        ),
    ]


def post_at_once(
    url: str, photos: list[bytes], midway: Callable[[], None]
) -> list[tuple[int, float]]:
    """Each photo on its own connection, all released together: (status, seconds) per upload,
    0 for a broken connection. ``midway`` runs a while after the release."""
    census = threading.Timer(SPLIT_CENSUS_SECONDS, midway)
    released: list[float] = []

    def release() -> None:
        released.append(time.monotonic())
        census.start()

    barrier = threading.Barrier(len(photos), action=release)
    outcomes: list[tuple[int, float]] = []

    def post(photo: bytes) -> None:
        barrier.wait()
        try:
            status = upload(url, photo).status
        except OSError:
            status = 0
        outcomes.append((status, time.monotonic() - released[0]))

    threads = [threading.Thread(target=post, args=(photo,)) for photo in photos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    census.cancel()
    return outcomes


def connections_per_worker(app: App) -> list[int]:
    """How many client connections each worker holds: a worker accepts more than it has threads
    for, and those wait while the other worker may have idle threads."""
    port = int(app.url.rsplit(":", 1)[1])
    counts = [
        sum(
            1
            for connection in worker.net_connections(kind="tcp")
            if connection.laddr.port == port and connection.status == psutil.CONN_ESTABLISHED
        )
        for worker in psutil.Process(app.process.pid).children()
    ]
    return sorted(counts, reverse=True)


def measure_upload_memory(app: App, photo: bytes) -> list[Row]:
    """c) a worker's resident memory while it takes one ~19.5 MB upload."""
    master = psutil.Process(app.process.pid)
    (worker,) = master.children()
    url = app.ingest_url(LARGE_SLOT)
    for _ in range(2):
        expect_ok(upload(url, small_photo()))
    baseline = worker.memory_info().rss
    with sample_peak_rss(worker) as peak:
        expect_ok(upload(url, photo))
    increase = peak() - baseline
    return [
        Row(
            f"c) worker RSS, one {len(photo) / MIB:.1f} MiB upload",
            "increase <= 2x upload",
            f"{baseline / MIB:.0f} -> {peak() / MIB:.0f} MiB, +{increase / MIB:.1f} MiB "
            f"= {increase / len(photo):.2f}x upload",
            increase <= 2 * len(photo),
        )
    ]


def percentiles(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.0f} ms, p95 {percentile(values, 95):.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
