"""Commands on the quickstart install (no DATABASE_URL): they use the embedded database beside
MEDIA_ROOT, started for the command when no server runs, shared with ``serve`` when one does."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app.config import PROJECT_ROOT
from tests.ops.test_cli import PHOTOCHANGER, serve_env, start_serve, stop
from tests.support.servers import free_port, wait_healthy


def quickstart_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTHONPATH"}}
    (tmp_path / "media").mkdir(exist_ok=True)
    return {**env, "MEDIA_ROOT": str(tmp_path / "media"), "LOG_LEVEL": "WARNING"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PHOTOCHANGER, *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def summary_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("cleanup: ")]


def test_cleanup_without_database_url_starts_and_stops_the_embedded_database(tmp_path):
    pgdata = tmp_path / ".photochanger" / "pgdata"

    done = run(quickstart_env(tmp_path), "cleanup", "--dry-run")

    assert done.returncode == 0, done.stderr
    (line,) = summary_lines(done.stdout)
    assert line.startswith("cleanup: 0 expired results") and line.endswith("(dry run)")
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists()


def test_db_upgrade_without_database_url_uses_the_embedded_database(tmp_path):
    done = run(quickstart_env(tmp_path), "db", "upgrade")

    assert done.returncode == 0, done.stderr
    assert "Database is up to date." in done.stdout
    assert not (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()


@pytest.mark.slow
def test_cleanup_beside_a_running_server_leaves_it_serving_and_reports_to_its_metrics(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = serve_env(tmp_path, port)
    log = tmp_path / "serve.log"
    server = start_serve(env, log)
    try:
        wait_healthy(url, server, 90, log.read_text)
        started = time.time()

        dry = run(env, "cleanup", "--dry-run")
        real = run(env, "cleanup")

        assert dry.returncode == 0, dry.stderr
        assert summary_lines(dry.stdout)[0].endswith("(dry run)")
        assert real.returncode == 0, real.stderr
        assert len(summary_lines(real.stdout)) == 1
        assert (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        scraped = requests.get(f"{url}/metrics", timeout=10).text
        (last,) = [
            sample.value
            for family in text_string_to_metric_families(scraped)
            for sample in family.samples
            if sample.name == "photochanger_cleanup_last_success_timestamp_seconds"
        ]
        assert started <= last <= time.time()
    finally:
        assert stop(server) == 0
    assert not (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()
