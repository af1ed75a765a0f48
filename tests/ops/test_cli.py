"""The ``photochanger`` command as a sysadmin runs it: real processes, real databases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.auth.models import Admin
from app.config import PROJECT_ROOT
from tests.support.images import make_image_bytes
from tests.support.servers import free_port, wait_healthy

PHOTOCHANGER = str(Path(sys.executable).parent / "photochanger")


def cli(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PHOTOCHANGER, *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )


def serve_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_PASSWORD"}}
    env.update(
        MEDIA_ROOT=str(tmp_path / "media"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        THREADS="4",
        LOG_LEVEL="WARNING",
    )
    env.pop("INGEST_PASSWORD", None)
    env.pop("SECRET_KEY", None)
    return env


def start_serve(env: dict[str, str], output: Path) -> subprocess.Popen[bytes]:
    with output.open("wb") as sink:
        return subprocess.Popen(
            [PHOTOCHANGER, "serve"], env=env, stdout=sink, stderr=sink, cwd=PROJECT_ROOT
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(60)


@pytest.mark.slow
def test_serve_without_database_url_runs_embedded_postgres_end_to_end(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = serve_env(tmp_path, port)
    log = tmp_path / "serve.log"
    process = start_serve(env, log)
    try:
        wait_healthy(url, process, 90, log.read_text)
        printed = {event["event"]: event for event in map(json.loads, log.read_text().splitlines())}
        assert printed["first_start.admin_created"]["username"] == "admin"
        assert printed["first_start.admin_created"]["password"]
        ingest_password = printed["first_start.ingest_password_created"]["password"]
        response = requests.post(
            f"{url}/ingest/slot-015",
            data={"password": ingest_password},
            files={"fileToUpload": ("a.jpg", make_image_bytes(), "image/jpeg")},
            timeout=30,
        )
        assert response.status_code == 200
        job_id = response.headers["X-Job-Id"]
    finally:
        assert stop(process) == 0
    assert '"event": "serve.embedded_database_stopped"' in log.read_text()
    assert (tmp_path / ".photochanger" / "pgdata" / "PG_VERSION").exists()
    assert not (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()

    second_log = tmp_path / "serve2.log"
    process = start_serve(env, second_log)
    try:
        wait_healthy(url, process, 90, second_log.read_text)
        assert "first_start." not in second_log.read_text()
        assert requests.get(f"{url}/api/jobs/{job_id}", timeout=5).json()["status"] == "done"
    finally:
        stop(process)


def test_db_upgrade_is_idempotent(database_url):
    first = cli("db", "upgrade", env={"DATABASE_URL": database_url})
    assert first.returncode == 0, first.stderr
    assert cli("db", "upgrade", env={"DATABASE_URL": database_url}).returncode == 0


def test_admin_create_and_set_password_store_hashes(database_url, db_session):
    env = {"DATABASE_URL": database_url}
    created = cli("admin", "create", "--username", "olga", "--password", "first-pass", env=env)
    assert created.returncode == 0, created.stderr
    again = cli("admin", "create", "--username", "olga", "--password", "x", env=env)
    assert again.returncode != 0
    assert "already exists" in again.stderr
    changed = cli("admin", "set-password", "--username", "olga", "--password", "second", env=env)
    assert changed.returncode == 0, changed.stderr
    admin = db_session.scalars(select(Admin).where(Admin.username == "olga")).one()
    assert admin.password_hash.startswith("scrypt:")
    assert check_password_hash(admin.password_hash, "second")
    assert not check_password_hash(admin.password_hash, "first-pass")


def test_set_password_of_unknown_admin_fails_clearly(database_url):
    result = cli(
        "admin",
        "set-password",
        "--username",
        "nobody",
        "--password",
        "x",
        env={"DATABASE_URL": database_url},
    )
    assert result.returncode != 0
    assert "no admin" in result.stderr


def test_secrets_can_be_read_from_files(tmp_path, monkeypatch):
    from app.config import Config

    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret_file))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert Config().secret_key == "from-a-file"
