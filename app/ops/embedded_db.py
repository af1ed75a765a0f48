"""The embedded PostgreSQL (``pgserver`` wheel) used when ``DATABASE_URL`` is not set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATABASE_NAME = "photochanger"


def start_embedded_postgres(data_dir: Path) -> tuple[Any, str]:
    """Start (or reuse) the server in ``data_dir``; it stops when this process exits."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'photochanger';")
    if "(1 row)" not in exists:
        server.psql("CREATE DATABASE photochanger;")
    url: str = server.get_uri(DATABASE_NAME)
    return server, url
