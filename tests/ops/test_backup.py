"""``photochanger backup`` and ``restore`` as a sysadmin runs them: data made through the app,
backed up by the real command, restored into a new database and media folder, and served again."""

from __future__ import annotations

import secrets
import stat
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session

from app import create_app
from app.db import alembic_config, upgrade_database
from app.ingest.models import Job
from app.ops.embedded_db import start_embedded_postgres
from app.slots.models import Slot, TemplateMedia
from tests.support.admin import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    SECOND_ADMIN_PASSWORD,
    SECOND_ADMIN_USERNAME,
    AdminClient,
)
from tests.support.backup import command_env, manifest_of, table_contents
from tests.support.cli import cli, photochanger, quickstart_env
from tests.support.database import alembic_revision
from tests.support.images import make_image_bytes
from tests.support.ingest import ingest_url, post_photo
from tests.support.pages import form_fields
from tests.support.results import expire_in, file_url, ingest, page_url
from tests.support.servers import LiveServer
from tests.support.stored import PROCESSING_FORM, reload_settings


@pytest.fixture
def studio(
    live_server: LiveServer,
    admin_http: AdminClient,
    http: requests.Session,
    db_session: Session,
    database_url: str,
    media_root: Path,
) -> dict[str, str]:
    """An install in use: a slot reconfigured, a template, changed settings, a second admin,
    a live result and an expired one."""
    form = form_fields(admin_http.get("/admin/slots/slot-002").text)
    form.update({"display_name": "Wedding booth", "settings.style": "pencil"})
    saved = admin_http.post("/admin/slots/slot-002", htmx=True, data=form)
    assert saved.status_code == 200, saved.text
    template = admin_http.post(
        "/admin/slots/slot-003/templates",
        htmx=True,
        data={"kind": "background", "version": "1"},
        files={"file": ("style.png", make_image_bytes(300, 200, "PNG"), "image/png")},
    )
    assert template.status_code == 200, template.text
    settings = admin_http.post("/admin/settings/processing", htmx=True, data=PROCESSING_FORM)
    assert settings.status_code == 200, settings.text
    second = cli(
        "admin",
        "create",
        "--username",
        SECOND_ADMIN_USERNAME,
        "--password",
        SECOND_ADMIN_PASSWORD,
        env=command_env(database_url, media_root),
    )
    assert second.returncode == 0, second.stderr
    live = ingest(live_server, http, make_image_bytes(color=(10, 200, 30)))
    expired = ingest(live_server, http, make_image_bytes(color=(200, 10, 90)))
    expire_in(db_session, expired.headers["X-Job-Id"], -timedelta(minutes=1))
    [media_id] = db_session.scalars(sa.select(TemplateMedia.media_id))
    return {
        "live": live.headers["X-Job-Id"],
        "live_payload": live.content.hex(),
        "expired": expired.headers["X-Job-Id"],
        "template": media_id,
    }


@pytest.mark.slow
def test_a_restored_backup_serves_slots_settings_admins_and_results(
    studio, database_url, media_root, empty_database_url, tmp_path, make_config
):
    backup_dir = tmp_path / "backup"
    made = cli("backup", str(backup_dir), env=command_env(database_url, media_root))
    assert made.returncode == 0, made.stderr
    assert "Backup written to" in made.stdout
    restored_media = tmp_path / "restored-media"

    restored = cli("restore", str(backup_dir), env=command_env(empty_database_url, restored_media))

    assert restored.returncode == 0, restored.stderr
    assert table_contents(empty_database_url) == table_contents(database_url)
    config = make_config(database_url=empty_database_url, media_root=restored_media)
    app = create_app(config)
    server = LiveServer(app)
    try:
        with Session(app.extensions["db_engine"]) as session:
            slot = session.get(Slot, "slot-002")
            assert slot is not None
            assert (slot.display_name, slot.settings["style"]) == ("Wedding booth", "pencil")
            assert reload_settings(session, config).result_ttl_hours == 24
        for username, password in (
            (ADMIN_USERNAME, ADMIN_PASSWORD),
            (SECOND_ADMIN_USERNAME, SECOND_ADMIN_PASSWORD),
        ):
            admin = AdminClient(server.url)
            admin.login(username, password)
        thumbnail = admin.get(f"/admin/slots/slot-003/templates/{studio['template']}")
        assert thumbnail.status_code == 200
        assert (
            thumbnail.content
            == (media_root / f"templates/slot-003/{studio['template']}.preview.webp").read_bytes()
        )
        with requests.Session() as http:
            assert http.get(page_url(server, studio["live"])).status_code == 200
            image = http.get(file_url(server, studio["live"]), params={"download": "1"})
            assert image.status_code == 200
            assert image.content == bytes.fromhex(studio["live_payload"])
            assert http.get(page_url(server, studio["expired"])).status_code == 410
            again = post_photo(http, ingest_url(server.url), make_image_bytes(color=(1, 2, 3)))
            assert again.status_code == 200, again.text  # booth password and id sequences work
    finally:
        server.stop()
        app.extensions["db_engine"].dispose()


def test_the_manifest_lists_tables_and_only_the_live_media_with_checksums(
    studio, database_url, media_root, tmp_path, db_session
):
    backup_dir = tmp_path / "backup"

    made = cli("backup", str(backup_dir), env=command_env(database_url, media_root))

    assert made.returncode == 0, made.stderr
    manifest = manifest_of(backup_dir)
    assert (manifest["format"], manifest["format_version"]) == ("photochanger-backup", 1)
    assert manifest["alembic_revision"] == db_session.scalar(
        sa.text("SELECT version_num FROM alembic_version")
    )
    assert manifest["app_version"] == "0.1.0"
    rows = {table["name"]: table["rows"] for table in manifest["tables"]}
    assert (rows["slots"], rows["admins"], rows["jobs"]) == (15, 2, 2)
    order = [table["name"] for table in manifest["tables"]]
    assert order.index("slots") < order.index("jobs") < order.index("media_objects")
    live = db_session.get(Job, studio["live"])
    template = f"templates/slot-003/{studio['template']}"
    listed = {item["path"] for item in manifest["media"]}
    assert listed == {
        f"{live.result_path}/payload.jpg",
        f"{live.result_path}/preview.webp",
        f"{live.result_path}/source.jpg",
        f"{template}.png",
        f"{template}.preview.webp",
    }
    assert not any(studio["expired"] in path for path in listed)
    for item in manifest["media"]:
        stored = backup_dir / "media" / item["path"]
        assert stored.read_bytes() == (media_root / item["path"]).read_bytes()
        assert item["size"] == stored.stat().st_size
    assert manifest["skipped_media"] == []
    assert sorted(p.name for p in backup_dir.iterdir()) == ["database", "manifest.json", "media"]


def test_a_file_deleted_before_it_is_copied_is_listed_as_skipped(
    studio, database_url, media_root, tmp_path, db_session
):
    live = db_session.get(Job, studio["live"])
    (media_root / live.result_path / "preview.webp").unlink()  # as a concurrent cleanup would
    backup_dir = tmp_path / "backup"

    made = cli("backup", str(backup_dir), env=command_env(database_url, media_root))

    assert made.returncode == 0, made.stderr
    assert "1 media files were deleted while the backup ran" in made.stdout
    manifest = manifest_of(backup_dir)
    assert manifest["skipped_media"] == [
        {"path": f"{live.result_path}/preview.webp", "reason": "deleted before it was copied"}
    ]
    assert f"{live.result_path}/payload.jpg" in {item["path"] for item in manifest["media"]}


def test_a_template_without_a_preview_is_backed_up_without_one(
    studio, database_url, media_root, tmp_path
):
    template = f"templates/slot-003/{studio['template']}"
    (media_root / f"{template}.preview.webp").unlink()  # as before previews were made
    backup_dir = tmp_path / "backup"

    made = cli("backup", str(backup_dir), env=command_env(database_url, media_root))

    assert made.returncode == 0, made.stderr
    assert "deleted while the backup ran" not in made.stdout
    manifest = manifest_of(backup_dir)
    assert manifest["skipped_media"] == []
    listed = {item["path"] for item in manifest["media"]}
    assert f"{template}.png" in listed and f"{template}.preview.webp" not in listed


def test_a_backup_is_readable_by_its_owner_only(database_url, media_root, tmp_path):
    backup_dir = tmp_path / "backup"

    made = cli("backup", str(backup_dir), env=command_env(database_url, media_root))

    assert made.returncode == 0, made.stderr
    written = [backup_dir, *backup_dir.rglob("*")]
    assert any(path.name == "manifest.json" for path in written)
    assert any(path.suffix == ".copy" for path in written)
    modes = {str(path.relative_to(tmp_path)): stat.S_IMODE(path.stat().st_mode) for path in written}
    assert modes == {name: 0o700 if (tmp_path / name).is_dir() else 0o600 for name in modes}


@pytest.mark.slow
def test_backup_leaves_the_embedded_database_at_its_schema_revision(tmp_path):
    pgdata = tmp_path / ".photochanger" / "pgdata"
    server, url = start_embedded_postgres(pgdata)
    try:
        upgrade_database(url, "0004")  # the schema the version before an upgrade ran
    finally:
        server.cleanup()
    backup_dir = tmp_path / "backup"

    made = photochanger("backup", str(backup_dir), env=quickstart_env(tmp_path))

    assert made.returncode == 0, made.stderr
    assert manifest_of(backup_dir)["alembic_revision"] == "0004"
    server, url = start_embedded_postgres(pgdata)
    try:
        assert alembic_revision(url) == "0004"
    finally:
        server.cleanup()


@pytest.mark.slow
def test_backup_and_restore_use_the_embedded_database_without_database_url(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    source, target = quickstart_env(old), quickstart_env(new)
    created = photochanger(
        "admin", "create", "--username", "olga", "--password", "olga-pass-1", env=source
    )
    assert created.returncode == 0, created.stderr
    backup_dir = tmp_path / "backup"

    made = photochanger("backup", str(backup_dir), env=source)
    restored = photochanger("restore", str(backup_dir), env=target)

    assert made.returncode == 0, made.stderr
    assert restored.returncode == 0, restored.stderr
    again = photochanger("admin", "create", "--username", "olga", "--password", "x", env=target)
    assert "already exists" in again.stderr
    assert not (new / ".photochanger" / "pgdata" / "postmaster.pid").exists()


def test_a_backup_of_an_older_schema_is_loaded_at_its_revision_then_upgraded(
    pg_server, empty_database_url, tmp_path
):
    older = f"photochanger_older_{secrets.token_hex(4)}"
    janitor = pg_server.janitor(older)
    janitor.init()
    try:
        upgrade_database(pg_server.url(older), "0003")
        backup_dir = tmp_path / "backup"
        made = cli("backup", str(backup_dir), env=command_env(pg_server.url(older), tmp_path / "m"))
        assert made.returncode == 0, made.stderr
        assert manifest_of(backup_dir)["alembic_revision"] == "0003"
        assert "admin_sessions" not in {t["name"] for t in manifest_of(backup_dir)["tables"]}

        restored = cli(
            "restore", str(backup_dir), env=command_env(empty_database_url, tmp_path / "new")
        )

        assert restored.returncode == 0, restored.stderr
        head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
        upgrade_database(pg_server.url(older))  # the same migrations, applied in place
        assert table_contents(empty_database_url) == table_contents(pg_server.url(older))
        assert alembic_revision(empty_database_url) == head
    finally:
        janitor.drop()
