"""Commands on the quickstart install (no DATABASE_URL): they use the embedded database beside
MEDIA_ROOT, started for the command when no server runs, shared with ``serve`` when one does."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.cleanup import summary_lines
from tests.support.cli import photochanger, quickstart_env, serve_env, serving
from tests.support.metrics import scrape
from tests.support.servers import free_port


def test_cleanup_without_database_url_starts_and_stops_the_embedded_database(tmp_path):
    pgdata = tmp_path / ".photochanger" / "pgdata"

    done = photochanger("cleanup", "--dry-run", env=quickstart_env(tmp_path))

    assert done.returncode == 0, done.stderr
    (line,) = summary_lines(done.stdout)
    assert line.startswith("cleanup: 0 expired results") and line.endswith("(dry run)")
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists()


def test_db_upgrade_without_database_url_uses_the_embedded_database(tmp_path):
    done = photochanger("db", "upgrade", env=quickstart_env(tmp_path))

    assert done.returncode == 0, done.stderr
    assert "Database is up to date." in done.stdout
    assert not (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()


@pytest.mark.slow
def test_cleanup_beside_a_running_server_leaves_it_serving_and_reports_to_its_metrics(tmp_path):
    env = serve_env(tmp_path, free_port())
    with serving(env, tmp_path / "serve.log") as url:
        started = time.time()

        dry = photochanger("cleanup", "--dry-run", env=env)
        real = photochanger("cleanup", env=env)

        assert dry.returncode == 0, dry.stderr
        assert summary_lines(dry.stdout)[0].endswith("(dry run)")
        assert real.returncode == 0, real.stderr
        assert len(summary_lines(real.stdout)) == 1
        assert (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        with requests.Session() as http:
            samples = scrape(http, url)
        (last,) = [
            value
            for (name, _labels), value in samples.items()
            if name == "photochanger_cleanup_last_success_timestamp_seconds"
        ]
        assert started <= last <= time.time()
    assert not (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()
