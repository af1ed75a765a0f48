#!/usr/bin/env python3
"""Benchmark of the retention job (target: 100 000 expired results deleted in ≤ 60 s).

Starts a throw-away PostgreSQL (pgserver) in a temp dir, migrates it, inserts ``--count``
expired ``done`` jobs (3 media rows each) with one set-based INSERT, writes their result folders
(3 small files each) and times one real ``run_cleanup``. Not part of the test suite:

    .venv/bin/python scripts/bench_cleanup.py --count 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from bench_report import Row, print_table, throwaway_database
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from app.media.storage import MediaStore

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "bench"
TARGET_SECONDS = 60
FILES = {"payload.jpg": b"p" * 2048, "preview.webp": b"v" * 512, "source.jpg": b"s" * 4096}

INSERT_JOBS = """
INSERT INTO jobs (id, slot_id, source, status, provider, client_meta, created_at, started_at,
                  deadline_at, finished_at, duration_ms, result_path, result_mime, result_bytes,
                  result_expires_at)
SELECT j.id, j.slot_id, 'ingest', 'done', 'local', '{}'::jsonb, :created, :created,
       :created + interval '48 seconds', :created + interval '3 seconds', 3000,
       'results/' || j.slot_id || '/' || j.id, 'image/jpeg', :payload_bytes,
       :expired - i * interval '1 millisecond'
FROM generate_series(1, :count) AS i,
     LATERAL (SELECT 'bench' || lpad(i::text, 17, '0') AS id,
                     'slot-' || lpad((i % 15 + 1)::text, 3, '0') AS slot_id) AS j
"""

INSERT_MEDIA = """
INSERT INTO media_objects (job_id, slot_id, kind, path, mime, size_bytes, created_at)
SELECT jobs.id, jobs.slot_id, f.kind, jobs.result_path || '/' || f.name, f.mime, f.size,
       jobs.created_at
FROM jobs,
     (VALUES ('payload', 'payload.jpg', 'image/jpeg', :payload_bytes),
             ('preview', 'preview.webp', 'image/webp', :preview_bytes),
             ('source', 'source.jpg', 'image/jpeg', :source_bytes)) AS f(kind, name, mime, size)
"""


def job_id(n: int) -> str:
    return f"bench{n:017d}"


def slot_id(n: int) -> str:
    return f"slot-{n % 15 + 1:03d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time run_cleanup on N expired results.")
    parser.add_argument("--count", type=int, default=100_000, help="expired results to create")
    args = parser.parse_args(argv)
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))

    with tempfile.TemporaryDirectory(prefix="bench-cleanup-") as workdir:
        rows = run(Path(workdir), args.count)
    print_table(rows)
    return 0 if all(row.met is not False for row in rows) else 1


def run(workdir: Path, count: int = 100_000) -> list[Row]:
    from app.db import make_engine, upgrade_database, utcnow
    from app.media.storage import MediaStore
    from app.ops.cleanup import run_cleanup
    from app.ops.logs import configure_logging

    configure_logging("WARNING")
    with throwaway_database(workdir, DATABASE) as url:
        upgrade_database(url)
        engine = make_engine(url, pool_size=2)
        store = MediaStore(workdir / "media")
        store.ensure_layout()
        now = utcnow()

        started = time.monotonic()
        insert_rows(engine, count, now)
        rows_seconds = time.monotonic() - started
        started = time.monotonic()
        write_folders(store, count)
        files_seconds = time.monotonic() - started
        print(f"setup: {count} job rows + {3 * count} media rows in {rows_seconds:.1f}s")
        print(f"setup: {count} folders with {3 * count} files in {files_seconds:.1f}s")

        with Session(engine) as session:
            started = time.monotonic()
            summary = run_cleanup(session, store, now=now)
            seconds = time.monotonic() - started
            left = session.scalar(sa.text("SELECT count(*) FROM jobs WHERE cleaned_at IS NULL"))
        engine.dispose()
    remaining = sum(1 for _ in store.results_dir.glob("*/*"))
    complete = summary.expired_results == count and left == 0 and remaining == 0
    return [
        Row(
            f"cleanup of {count} expired results ({3 * count} files)",
            f"<= {TARGET_SECONDS} s, nothing left",
            f"{seconds:.1f} s ({summary.expired_results / seconds:.0f} results/s); "
            f"{left} rows and {remaining} folders left",
            complete and seconds <= TARGET_SECONDS,
        )
    ]


def insert_rows(engine: sa.Engine, count: int, now: datetime) -> None:
    sizes = {
        "payload_bytes": len(FILES["payload.jpg"]),
        "preview_bytes": len(FILES["preview.webp"]),
        "source_bytes": len(FILES["source.jpg"]),
    }
    with engine.begin() as connection:
        connection.execute(
            sa.text(INSERT_JOBS),
            {
                "count": count,
                "created": now - timedelta(hours=80),
                "expired": now - timedelta(hours=1),
                "payload_bytes": sizes["payload_bytes"],
            },
        )
        connection.execute(sa.text(INSERT_MEDIA), sizes)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text("VACUUM ANALYZE jobs, media_objects")
        )


def write_folders(store: MediaStore, count: int) -> None:
    for n in range(1, count + 1):
        folder = store.results_dir / slot_id(n) / job_id(n)
        folder.mkdir(parents=True)
        for name, content in FILES.items():
            (folder / name).write_bytes(content)


if __name__ == "__main__":
    sys.exit(main())
