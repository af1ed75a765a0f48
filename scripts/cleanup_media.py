#!/usr/bin/env python3
"""Cron entry point for media retention; the same run as ``photochanger cleanup``.

Works from any directory and without the package installed: the project root is put on
``sys.path`` first. Configuration comes from the environment (DATABASE_URL, MEDIA_ROOT, …);
without DATABASE_URL it uses the quickstart's embedded database, as ``photochanger cleanup``
does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Delete expired results, stale temp files, orphan folders and old rows."
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would be deleted, delete nothing"
    )
    args = parser.parse_args(argv)
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from app.config import Config
    from app.ops.cleanup import run_cleanup_command
    from app.ops.embedded_db import configured_database

    with configured_database(Config()) as config:
        return run_cleanup_command(config, dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
