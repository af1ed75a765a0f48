from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pgserver
import pytest
import requests

from app import create_app
from app.config import Config
from tests.support.servers import LiveServer


def test_healthz_is_ok_when_database_and_media_work(live_server, http):
    response = http.get(f"{live_server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "media": "ok"}}


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A PostgreSQL server of this test alone, so stopping it harms no other test."""
    data_dir = tmp_path / "pgdata"
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    yield data_dir, server.get_uri()
    server.cleanup()


def test_healthz_is_503_while_the_database_is_down_and_recovers(own_postgres, tmp_path):
    data_dir, url = own_postgres
    config = Config(
        database_url=url,
        media_root=tmp_path / "media",
        secret_key="k",
        log_level="WARNING",
        _env_file=None,
    )
    server = LiveServer(create_app(config))
    try:
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        pgserver.get_server(data_dir, cleanup_mode="stop").cleanup()
        down = requests.get(f"{server.url}/healthz", timeout=15)
        assert down.status_code == 503
        assert down.json()["status"] == "error"
        assert down.json()["checks"]["database"].startswith("error")
        assert down.json()["checks"]["media"] == "ok"
        pgserver.get_server(data_dir, cleanup_mode="stop")
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
