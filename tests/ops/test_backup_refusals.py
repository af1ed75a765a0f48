"""``photochanger backup`` and ``restore`` refusing what they cannot do safely: a clear message,
a non-zero status, and nothing changed."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import create_app, db
from app.auth.models import Admin
from app.auth.passwords import hash_booth_password
from app.config import Config
from app.settings.service import save_settings
from tests.fixtures.database import PgServer
from tests.support.backup import SECRET_KEY, command_env, manifest_of
from tests.support.cli import cli
from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, ingest_url
from tests.support.servers import closed_port_url

EXIT_FAILED, EXIT_REFUSED, EXIT_INVALID_BACKUP = 1, 3, 4


@pytest.fixture(scope="module")
def pristine_backup(
    pg_server: PgServer, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A complete backup holding one live result, made once for the module by the command."""
    root = tmp_path_factory.mktemp("backup-source")
    media_root = root / "media"
    media_root.mkdir()
    dbname = f"photochanger_backup_source_{os.getpid()}"
    janitor = pg_server.janitor(dbname, template_dbname=template_database)
    janitor.init()
    try:
        url = pg_server.url(dbname)
        config = Config(
            _env_file=None,
            database_url=url,
            media_root=media_root,
            secret_key=SECRET_KEY,
            log_level="WARNING",
        )
        app = create_app(config)
        with app.app_context():
            password_hash = hash_booth_password(config.booth_password_key, INGEST_PASSWORD)
            save_settings(db.session(), config, {"ingest_password_hash": password_hash}, "tests")
        photo = (io.BytesIO(make_image_bytes()), "IMG_0003.JPG", "image/jpeg")
        response = app.test_client().post(
            ingest_url(""), data={"password": INGEST_PASSWORD, "fileToUpload": photo}
        )
        assert response.status_code == 200, response.text
        app.extensions["db_engine"].dispose()
        made = cli("backup", str(root / "backup"), env=command_env(url, media_root))
        assert made.returncode == 0, made.stderr
    finally:
        janitor.drop()
    return root / "backup"


@pytest.fixture
def backup_dir(pristine_backup: Path, tmp_path: Path) -> Path:
    """A copy of the module's backup, for this test to change."""
    return Path(shutil.copytree(pristine_backup, tmp_path / "backup"))


@pytest.fixture
def restored_media(tmp_path: Path) -> Path:
    return tmp_path / "restored-media"


def restore(backup: Path, database_url: str, media_root: Path, *options: str, **env: str):
    return cli("restore", str(backup), *options, env=command_env(database_url, media_root, **env))


def table_names(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def assert_untouched(database_url: str, media_root: Path) -> None:
    assert table_names(database_url) == []
    assert not media_root.exists() or not any(media_root.rglob("*"))


def test_backup_into_a_folder_that_is_not_empty_is_refused(database_url, media_root, tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")

    refused = cli("backup", str(folder), env=command_env(database_url, media_root))

    assert refused.returncode == EXIT_REFUSED
    assert f"backup: {folder} is not empty" in refused.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_backup_into_a_file_is_refused(database_url, media_root, tmp_path):
    file = tmp_path / "backup"
    file.write_text("keep me")

    refused = cli("backup", str(file), env=command_env(database_url, media_root))

    assert refused.returncode == EXIT_REFUSED
    assert f"backup: {file} exists and is not a folder." in refused.stderr
    assert file.read_text() == "keep me"


def test_a_failed_backup_leaves_nothing_that_looks_complete(media_root, tmp_path):
    folder = tmp_path / "backup"
    unreachable = closed_port_url().replace("http://", "postgresql://nobody@") + "/photochanger"

    failed = cli("backup", str(folder), env=command_env(unreachable, media_root))

    assert failed.returncode == EXIT_FAILED
    assert failed.stderr.startswith("backup: failed: ")
    assert "Traceback" not in failed.stderr
    assert list(folder.iterdir()) == []


def test_restore_from_a_missing_folder_is_refused(empty_database_url, restored_media, tmp_path):
    refused = restore(tmp_path / "nowhere", empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert "is not a folder" in refused.stderr
    assert_untouched(empty_database_url, restored_media)


def test_restore_from_a_file_is_refused(empty_database_url, restored_media, tmp_path):
    file = tmp_path / "backup.tar"
    file.write_bytes(b"not a folder")

    refused = restore(file, empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert f"restore: {file} is not a folder." in refused.stderr
    assert_untouched(empty_database_url, restored_media)


def test_restore_of_an_interrupted_backup_is_refused(empty_database_url, restored_media, tmp_path):
    (tmp_path / "backup" / ".partial" / "database").mkdir(parents=True)

    refused = restore(tmp_path / "backup", empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert "has no manifest.json: not a complete backup" in refused.stderr


def test_a_changed_media_file_fails_its_checksum_before_anything_is_restored(
    backup_dir, empty_database_url, restored_media
):
    [item] = [i for i in manifest_of(backup_dir)["media"] if i["path"].endswith("payload.jpg")]
    tampered = backup_dir / "media" / item["path"]
    data = bytearray(tampered.read_bytes())
    data[-10] ^= 0xFF
    tampered.write_bytes(bytes(data))

    refused = restore(backup_dir, empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert f"{tampered} does not match its checksum" in refused.stderr
    assert_untouched(empty_database_url, restored_media)


def test_a_changed_table_file_fails_its_checksum(backup_dir, empty_database_url, restored_media):
    table = backup_dir / "database" / "slots.copy"
    table.write_text(table.read_text().replace("slot-001", "slot-666"))

    refused = restore(backup_dir, empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert f"{table} does not match its checksum" in refused.stderr
    assert_untouched(empty_database_url, restored_media)


def test_a_missing_media_file_makes_the_backup_incomplete(
    backup_dir, empty_database_url, restored_media
):
    first = manifest_of(backup_dir)["media"][0]["path"]
    (backup_dir / "media" / first).unlink()

    refused = restore(backup_dir, empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert "is missing: the backup is incomplete" in refused.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda m: m["media"][0].update(path="../../outside.jpg"),
            "unsafe media path",
            id="unsafe-media-path",
        ),
        pytest.param(
            lambda m: m["tables"][0].update(name="slots; DROP TABLE x"),
            "invalid identifier",
            id="sql-in-a-table-name",
        ),
        pytest.param(
            lambda m: m.update(format_version=99),
            "format version 99 is not supported",
            id="newer-format",
        ),
        pytest.param(lambda m: m.pop("tables"), "manifest.json is malformed", id="no-tables"),
    ],
)
def test_a_manifest_that_was_tampered_with_is_refused(
    backup_dir, empty_database_url, restored_media, change, message
):
    manifest = manifest_of(backup_dir)
    change(manifest)
    (backup_dir / "manifest.json").write_text(json.dumps(manifest))

    refused = restore(backup_dir, empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert message in refused.stderr
    assert_untouched(empty_database_url, restored_media)


def test_a_manifest_that_is_not_json_is_refused(backup_dir, empty_database_url, restored_media):
    (backup_dir / "manifest.json").write_bytes(b"{not json")

    refused = restore(backup_dir, empty_database_url, restored_media)

    assert refused.returncode == EXIT_INVALID_BACKUP
    assert "manifest.json is malformed" in refused.stderr


def test_restore_into_a_database_that_has_tables_is_refused(
    backup_dir, database_url, db_session: Session, restored_media
):
    admins = db_session.scalars(sa.select(Admin.username)).all()

    refused = restore(backup_dir, database_url, restored_media)

    assert refused.returncode == EXIT_REFUSED
    assert "The database already has" in refused.stderr
    db_session.expire_all()
    assert db_session.scalars(sa.select(Admin.username)).all() == admins
    assert not restored_media.exists()


def test_restore_into_a_media_folder_with_files_is_refused(
    backup_dir, empty_database_url, restored_media
):
    (restored_media / "results").mkdir(parents=True)
    (restored_media / "results" / "old.jpg").write_bytes(b"someone's photo")

    refused = restore(backup_dir, empty_database_url, restored_media)

    assert refused.returncode == EXIT_REFUSED
    assert f"MEDIA_ROOT {restored_media} is not empty" in refused.stderr
    assert table_names(empty_database_url) == []
    assert (restored_media / "results" / "old.jpg").read_bytes() == b"someone's photo"


def test_restore_under_another_secret_key_needs_to_be_accepted_explicitly(
    backup_dir, empty_database_url, restored_media
):
    refused = restore(backup_dir, empty_database_url, restored_media, SECRET_KEY="another-key")

    assert refused.returncode == EXIT_REFUSED
    assert "made under another SECRET_KEY" in refused.stderr
    assert_untouched(empty_database_url, restored_media)

    accepted = restore(
        backup_dir,
        empty_database_url,
        restored_media,
        "--accept-other-secret-key",
        SECRET_KEY="another-key",
    )

    assert accepted.returncode == 0, accepted.stderr
    assert "admins" in table_names(empty_database_url)


def test_restore_accepts_the_backups_key_among_the_fallbacks(
    backup_dir, empty_database_url, restored_media
):
    restored = restore(
        backup_dir,
        empty_database_url,
        restored_media,
        SECRET_KEY="the-new-key",
        SECRET_KEY_FALLBACKS=f"older-key,{SECRET_KEY}",
    )

    assert restored.returncode == 0, restored.stderr


def test_rows_that_disagree_with_the_manifest_are_not_loaded(
    backup_dir, empty_database_url, restored_media
):
    manifest = manifest_of(backup_dir)
    [slots] = [table for table in manifest["tables"] if table["name"] == "slots"]
    slots["rows"] = 14
    (backup_dir / "manifest.json").write_text(json.dumps(manifest))

    failed = restore(backup_dir, empty_database_url, restored_media)

    assert failed.returncode == EXIT_INVALID_BACKUP
    assert "database/slots.copy held 15 rows, the manifest says 14" in failed.stderr
    assert "drop and recreate it" in failed.stderr
    assert not any(path.is_file() for path in restored_media.rglob("*"))
    engine = sa.create_engine(empty_database_url)
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM jobs")) == 0
    engine.dispose()
