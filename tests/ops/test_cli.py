"""The ``photochanger`` command as a sysadmin runs it: real processes, real databases."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.auth.models import Admin
from tests.support.cli import cli, serve_env, serving
from tests.support.images import make_image_bytes
from tests.support.servers import free_port


@pytest.mark.slow
def test_serve_without_database_url_runs_embedded_postgres_end_to_end(tmp_path):
    env = serve_env(tmp_path, free_port())
    log = tmp_path / "serve.log"
    with serving(env, log) as url:
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
    assert '"event": "serve.embedded_database_stopped"' in log.read_text()
    assert (tmp_path / ".photochanger" / "pgdata" / "PG_VERSION").exists()
    assert not (tmp_path / ".photochanger" / "pgdata" / "postmaster.pid").exists()

    second_log = tmp_path / "serve2.log"
    with serving(env, second_log) as url:
        assert "first_start." not in second_log.read_text()
        assert requests.get(f"{url}/api/jobs/{job_id}", timeout=5).json()["status"] == "done"


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
