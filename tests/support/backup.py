"""Running ``photochanger backup`` and ``restore`` in tests, and reading what they leave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.models import Base
from tests.support.database import connected

SECRET_KEY = "test-secret-key"
"""The tests' app config's key, so the commands and the served app agree."""


def command_env(database_url: str, media_root: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "SECRET_KEY": SECRET_KEY,
        **extra,
    }


def manifest_of(backup_dir: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((backup_dir / "manifest.json").read_text())
    return manifest


def table_contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order."""
    with connected(url) as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(sa.select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }
