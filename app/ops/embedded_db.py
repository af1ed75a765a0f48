"""The embedded PostgreSQL (``pgserver`` wheel) used when ``DATABASE_URL`` is not set.

pgserver shares one server per data folder between processes: each process that attaches
records its pid in the folder's ``.handle_pids.json``, and the server stops only when the last
of them lets go. So a command run beside a running ``photochanger serve`` (cron's cleanup, an
admin command) attaches to its server and leaves it running, and run alone it starts the server
and stops it again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from app.config import Config
from app.db import upgrade_database

DATABASE_NAME = "photochanger"
HANDLES_FILE = ".handle_pids.json"


def start_embedded_postgres(data_dir: Path) -> tuple[Any, str]:
    """Start (or attach to) the server in ``data_dir``; it stops when the last process using
    it lets go (``server.cleanup()``, or this process's exit)."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    forget_dead_handles(data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'photochanger';")
    if "(1 row)" not in exists:
        server.psql("CREATE DATABASE photochanger;")
    url: str = server.get_uri(DATABASE_NAME)
    return server, url


def forget_dead_handles(data_dir: Path) -> None:
    """Drop the pids of processes that died without letting go (a killed server), which would
    otherwise keep every later command from stopping the server it started."""
    from pgserver.postgres_server import PostgresServer

    handles = data_dir / HANDLES_FILE
    with PostgresServer._lock:
        if not handles.exists():
            return
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


@contextmanager
def configured_database(config: Config, migrate: bool = True) -> Iterator[Config]:
    """``config`` with a DATABASE_URL for one command: the configured one, else the embedded
    server beside MEDIA_ROOT (attached to or started, migrated unless ``migrate`` is False (a
    restore wants it empty), and let go afterwards)."""
    if config.database_url:
        yield config
        return
    server, url = start_embedded_postgres(config.local_state_dir / "pgdata")
    try:
        if migrate:
            upgrade_database(url)
        yield config.model_copy(update={"database_url": url})
    finally:
        server.cleanup()
