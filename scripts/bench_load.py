#!/usr/bin/env python3
"""Benchmark of a burst beyond capacity on real gunicorn: 200 booth uploads of 5 MB photos sent at
once to a Gemini that takes 10 s (the tests' fake, answering a 1024x1024 PNG), while a prober
keeps calling ``/healthz``, an admin page and the Telegram webhook.

Every upload must be answered within ``T_sync_response`` counted from when the client started
sending it (a photo, or an early ``429`` with ``Retry-After``; never a late answer), the probes
must keep p95 <= 150 ms, and the whole server (master and workers) must stay under 1 GB of
resident memory. Same stage as ``bench_ingest.py`` (throw-away pgserver, ``gunicorn_command``
with the default workers and threads). Not part of the test suite:

    .venv/bin/python scripts/bench_load.py [--uploads 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import psutil
from bench_ingest_setup import (
    GEMINI_SLOT,
    MIB,
    PROJECT_ROOT,
    WEBHOOK,
    answer_png,
    gemini_fake,
    prepare_database,
    probing,
    sample_peak_rss,
    serve,
    sized_jpeg,
    unique,
    upload,
)
from bench_report import Row, load_average, percentile, print_table, throwaway_database
from sqlalchemy.orm import Session

from app.config import Config
from app.db import make_engine, upgrade_database
from app.settings.service import save_settings

DATABASE = "bench_load"
SLOT_ID = GEMINI_SLOT
PROVIDER_SECONDS = 10
T_SYNC_SECONDS = 48
PHOTO = (4000, 3000, 5 * MIB)
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - a throw-away test value
PROBE_TARGET_MS = 150
EARLY_REFUSAL_SECONDS = 10
"""A refusal is early when the booth still has most of its wait left to try again."""
RSS_TARGET_BYTES = 1024 * MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200)
    args = parser.parse_args()
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-load-") as workdir:
        rows = run(Path(workdir), args.uploads)
    print_table(rows)
    print(f"\nload average after the run: {load_average()}")
    return 0 if all(row.met is not False for row in rows) else 1


def run(workdir: Path, uploads: int = 200) -> list[Row]:
    with throwaway_database(workdir, DATABASE) as database_url:
        upgrade_database(database_url)
        prepare_database(database_url, workdir / "media")
        prepare_burst(database_url, workdir / "media", uploads)
        print(f"machine: {os.cpu_count()} CPUs, load average {load_average()}")
        return burst_rows(workdir, database_url, uploads)


def prepare_burst(database_url: str, media_root: Path, uploads: int) -> None:
    """Limits that let every upload through the database's slot and provider limits: what is
    measured is the server's own capacity."""
    config = Config(database_url=database_url, media_root=media_root, _env_file=None)
    engine = make_engine(database_url, pool_size=1)
    with Session(engine) as session:
        limits = {"slot_concurrency": uploads, "provider_concurrency": uploads}
        save_settings(session, config, {**limits, "sync_response_seconds": T_SYNC_SECONDS}, "bench")
    engine.dispose()


def burst_rows(workdir: Path, database_url: str, uploads: int) -> list[Row]:
    os.environ |= {
        "TELEGRAM_BOT_TOKEN": "123456:bench-token",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_BASE": "http://127.0.0.1:9",  # nothing listens: the bot's calls fail fast
    }
    from tests.support.fakes.gemini import image_reply

    photo = sized_jpeg(*PHOTO)
    photos = [unique(photo) for _ in range(uploads)]
    with (
        gemini_fake(answer_png()) as gemini,
        serve(workdir, database_url, gemini=gemini) as app,
    ):
        gemini.script(replace(image_reply(answer_png()), delay_seconds=PROVIDER_SECONDS))
        print(f"serve: {app.workers} workers x {app.threads} threads")
        tree = psutil.Process(app.process.pid)
        with (
            sample_peak_rss(tree, with_children=True) as peak_rss,
            probing(app.url, ("/healthz", "/admin/login", WEBHOOK), WEBHOOK_SECRET) as probes,
        ):
            outcomes = burst(app.ingest_url(SLOT_ID), photos)
    return report(outcomes, probes, peak_rss(), uploads)


def burst(url: str, photos: list[bytes]) -> list[tuple[int, float, str | None]]:
    """Each photo on its own connection, released together: (status, seconds from this
    client's start of sending to the answer, Retry-After)."""
    barrier = threading.Barrier(len(photos))
    outcomes: list[tuple[int, float, str | None]] = []

    def post(photo: bytes) -> None:
        barrier.wait()
        started = time.monotonic()
        try:
            answer = upload(url, photo)
            status, retry_after = answer.status, answer.headers.get("retry-after")
        except OSError:
            status, retry_after = 0, None
        outcomes.append((status, time.monotonic() - started, retry_after))

    threads = [threading.Thread(target=post, args=(photo,)) for photo in photos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def report(
    outcomes: list[tuple[int, float, str | None]],
    probes: dict[str, list[float]],
    peak_rss: int,
    uploads: int,
) -> list[Row]:
    statuses = Counter(status for status, _, _ in outcomes)
    late = [seconds for _, seconds, _ in outcomes if seconds > T_SYNC_SECONDS]
    refused = [(seconds, after) for status, seconds, after in outcomes if status == 429]
    refused_late = [seconds for seconds, _ in refused if seconds > EARLY_REFUSAL_SECONDS]
    without_retry_after = sum(1 for _, after in refused if not after)
    slowest = max(seconds for _, seconds, _ in outcomes)
    answered_ok = statuses[200] + statuses[429] == uploads
    rows = [
        Row(
            f"d) {uploads} at once, 10 s provider, 5 MB photos",
            f"photo within {T_SYNC_SECONDS} s or 429 + Retry-After within "
            f"{EARLY_REFUSAL_SECONDS} s",
            f"{dict(sorted(statuses.items()))}; slowest {slowest:.1f} s, {len(late)} late; "
            f"429s: slowest {max((s for s, _ in refused), default=0):.2f} s, "
            f"{without_retry_after} without Retry-After",
            answered_ok and not late and not without_retry_after and not refused_late,
        )
    ]
    for name, values in probes.items():
        p95 = percentile(values, 95) if values else float("inf")
        rows.append(
            Row(
                f"d) {name} during the burst",
                f"p95 <= {PROBE_TARGET_MS} ms",
                f"p50 {percentile(values, 50):.0f} ms, p95 {p95:.0f} ms, "
                f"max {max(values):.0f} ms ({len(values)} calls)"
                if values
                else "no answer",
                p95 <= PROBE_TARGET_MS,
            )
        )
    rows.append(
        Row(
            "d) peak RSS of the whole server during the burst",
            f"<= {RSS_TARGET_BYTES / MIB:.0f} MiB",
            f"{peak_rss / MIB:.0f} MiB",
            peak_rss <= RSS_TARGET_BYTES,
        )
    )
    return rows


if __name__ == "__main__":
    sys.exit(main())
