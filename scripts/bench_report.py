"""The table every scripts/bench_*.py prints: measurement, target, measured, verdict."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Row:
    measurement: str
    target: str
    measured: str
    met: bool | None
    """None for rows that only inform."""


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(rows: list[Row], out: IO[str] = sys.stdout) -> None:
    verdicts = {True: "met", False: "MISSED", None: "info"}
    headers = ("measurement", "target", "measured", "")
    cells = [headers, *((r.measurement, r.target, r.measured, verdicts[r.met]) for r in rows)]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    print("\n" + "\n".join(lines), file=out)


@contextmanager
def throwaway_database(workdir: Path, name: str) -> Iterator[str]:
    """A PostgreSQL (pgserver) of the benchmark's own in ``workdir`` with an empty database
    ``name``; yields its URL and deletes the server after."""
    import pgserver

    server = pgserver.get_server(workdir / "pgdata", cleanup_mode="delete")
    try:
        server.psql(f"CREATE DATABASE {name};")
        yield server.get_uri(name)
    finally:
        server.cleanup()
