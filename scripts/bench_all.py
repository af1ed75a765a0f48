#!/usr/bin/env python3
"""Every benchmark in one table: booth ingest (CPU per request and per answer, 64 at once,
upload memory), the 200-upload burst, the stats and admin pages at 1 million jobs, and the
cleanup of 100 000 results. Each part runs on its own throw-away PostgreSQL; about 20 minutes
on 2 cores. Not part of the test suite; the latest table is kept in docs/performance.md:

    .venv/bin/python scripts/bench_all.py [--only ingest,load,stats,cleanup]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import bench_cleanup
import bench_ingest
import bench_load
import bench_stats
from bench_report import Row, load_average, print_table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS: dict[str, Callable[[Path], list[Row]]] = {
    "ingest": lambda workdir: bench_ingest.run(workdir, set(bench_ingest.PARTS)),
    "load": bench_load.run,
    "stats": bench_stats.run,
    "cleanup": bench_cleanup.run,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated parts")
    parts = parser.parse_args().only.split(",")
    if unknown := set(parts) - set(BENCHMARKS):
        parser.error(f"unknown part: {', '.join(sorted(unknown))}")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    print(f"machine: {os.cpu_count()} CPUs, load average {load_average()}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        for name in parts:
            run = BENCHMARKS[name]
            workdir = Path(tmp) / name
            workdir.mkdir()
            rows += run(workdir)
    print_table(rows)
    print(f"\nload average after: {load_average()}")
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
