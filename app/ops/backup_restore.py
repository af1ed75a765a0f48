"""``photochanger restore DIR``: a backup into an empty database and an empty media folder.

Nothing is touched until the whole backup has been checked against its manifest and both
targets are found empty. The schema is then migrated to the backup's revision, the rows are
loaded in one transaction (tables in foreign-key order, the rows the migrations seed replaced,
the stats triggers off since their rollup tables are restored as they were, sequences set), the
media files copied into place before that transaction commits (and removed again if it fails),
and finally the schema is upgraded to this version's head.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from psycopg import sql

from app.config import Config
from app.db import alembic_config, make_engine, upgrade_database
from app.media.storage import MediaStore
from app.ops.backup_format import (
    EXIT_FAILED,
    EXIT_REFUSED,
    MANIFEST_NAME,
    MEDIA_DIR,
    BackupError,
    InvalidBackup,
    Manifest,
    TableDump,
    first_line,
    installed_secret_keys,
    read_chunks,
    report_failure,
    secret_key_check,
    verify_files,
)
from app.ops.serve import SECRET_KEY_FILE

SCHEMA_TABLES = """
    SELECT relname FROM pg_class
    WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"""
TABLE_COLUMNS = """
    SELECT attname FROM pg_attribute
    WHERE attrelid = CAST(quote_ident(:table) AS regclass) AND attnum > 0 AND NOT attisdropped"""
SET_SEQUENCE = "SELECT setval(pg_get_serial_sequence(quote_ident(:table), :column), :value)"


def restore_command(config: Config, source: Path, accept_other_secret_key: bool = False) -> int:
    """``photochanger restore``: 0 when restored, else a message and its exit status."""
    from app.ops.embedded_db import configured_database

    try:
        manifest = read_backup(source)
        check_secret_key(manifest, config, accept_other_secret_key)
        refuse_nonempty_media(config.media_root)
        with configured_database(config, migrate=False) as configured:
            assert configured.database_url
            restore_backup(configured.database_url, MediaStore(config.media_root), source, manifest)
    except Exception as error:
        return report_failure("restore", error)
    rows = sum(table.rows for table in manifest.tables)
    print(
        f"Restored {source} (made {manifest.created_at} by PhotoChanger {manifest.app_version}): "
        f"{rows} rows at revision {manifest.alembic_revision}, {len(manifest.media)} media files "
        f"into {config.media_root}; the schema is upgraded to this version."
    )
    return 0


def read_backup(source: Path) -> Manifest:
    """The manifest of the backup in ``source`` once every file matches its checksum."""
    if not source.is_dir():
        raise InvalidBackup(f"{source} is not a folder.")
    manifest_path = source / MANIFEST_NAME
    if not manifest_path.is_file():
        raise InvalidBackup(
            f"{source} has no {MANIFEST_NAME}: not a complete backup (an interrupted backup "
            "leaves only a .partial folder)."
        )
    try:
        manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidBackup(
            f"{manifest_path} is not UTF-8 text: the backup is corrupted."
        ) from None
    verify_files(source, [table.file for table in manifest.tables])
    verify_files(source / MEDIA_DIR, manifest.media)
    return manifest


def check_secret_key(manifest: Manifest, config: Config, accept_other: bool) -> None:
    """Refuse a restore unless SECRET_KEY or one of its fallbacks is the key the backup was made
    under (or the sysadmin accepts another): the stored provider keys and booth passwords would
    otherwise stop working."""
    if accept_other or manifest.secret_key_check is None:
        return
    if manifest.secret_key_check not in map(secret_key_check, installed_secret_keys(config)):
        raise BackupError(
            "The backup was made under another SECRET_KEY: the stored provider API keys and "
            "booth passwords would stop working. Set SECRET_KEY (or SECRET_KEY_FALLBACKS; on the "
            f"quickstart, the file {config.local_state_dir / SECRET_KEY_FILE}) to the key of the "
            "backed-up install, or pass --accept-other-secret-key to restore anyway and re-enter "
            "them.",
            EXIT_REFUSED,
        )


def refuse_nonempty_media(media_root: Path) -> None:
    """The media folder may be missing or hold empty folders only."""
    if media_root.exists() and not media_root.is_dir():
        raise BackupError(f"MEDIA_ROOT {media_root} is not a folder.", EXIT_REFUSED)
    for _folder, _subfolders, files in os.walk(media_root):
        if files:
            raise BackupError(
                f"MEDIA_ROOT {media_root} is not empty; restore only into an empty media folder.",
                EXIT_REFUSED,
            )


def refuse_nonempty_database(connection: sa.Connection) -> None:
    tables = list(connection.scalars(sa.text(SCHEMA_TABLES)))
    if tables:
        raise BackupError(
            f"The database already has {len(tables)} tables ({', '.join(sorted(tables)[:4])}…); "
            "restore only into a newly created, empty database (on the quickstart: before the "
            "first `photochanger serve`, with no .photochanger/pgdata beside MEDIA_ROOT).",
            EXIT_REFUSED,
        )


def check_revision(url: str, revision: str) -> None:
    try:
        ScriptDirectory.from_config(alembic_config(url)).get_revision(revision)
    except CommandError:
        raise InvalidBackup(
            f"The backup is at schema revision {revision!r}, which this PhotoChanger does not "
            "know: restore it with the version that made it (or a newer one)."
        ) from None


def restore_backup(url: str, store: MediaStore, source: Path, manifest: Manifest) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            refuse_nonempty_database(connection)
        check_revision(url, manifest.alembic_revision)
        upgrade_database(url, manifest.alembic_revision)
        written: list[str] = []
        try:
            with engine.begin() as connection:
                load_rows(connection, source, manifest)
                copy_media(store, source, manifest, written)
        except Exception as error:
            for relative in written:
                store.remove(relative)
            code = error.exit_code if isinstance(error, BackupError) else EXIT_FAILED
            raise BackupError(
                f"{first_line(error)} — no rows were loaded, but the database now holds the new "
                f"schema of revision {manifest.alembic_revision}: drop and recreate it before "
                "trying again.",
                code,
            ) from error
    finally:
        engine.dispose()
    try:
        upgrade_database(url)
    except Exception as error:
        raise BackupError(
            f"The backup was restored at revision {manifest.alembic_revision}, but upgrading the "
            f"schema failed: {first_line(error)}. Run `photochanger db upgrade` once fixed."
        ) from error


def load_rows(connection: sa.Connection, source: Path, manifest: Manifest) -> None:
    """Replace what the migrations seeded with the backup's rows, in the manifest's order."""
    driver = cast(psycopg.Connection[Any], connection.connection.driver_connection)
    existing = set(connection.scalars(sa.text(SCHEMA_TABLES)))
    for table in manifest.tables:
        if table.name not in existing:
            raise InvalidBackup(
                f"Table {table.name!r} of the backup is not in the schema at revision "
                f"{manifest.alembic_revision}: the backup is inconsistent."
            )
        columns = set(connection.scalars(sa.text(TABLE_COLUMNS), {"table": table.name}))
        if unknown := set(table.columns) - columns:
            raise InvalidBackup(f"Table {table.name!r} has no columns {sorted(unknown)}.")
    names = [sql.Identifier(table.name) for table in manifest.tables]
    with driver.cursor() as cursor:
        cursor.execute("SET client_encoding TO 'UTF8'")
        if names:
            cursor.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(names)))
        for name, table in zip(names, manifest.tables, strict=True):
            cursor.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(name))
            load_table(cursor, source, table)
            cursor.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(name))
    for value in manifest.sequences:
        if value.last_value is not None:
            connection.execute(
                sa.text(SET_SEQUENCE),
                {"table": value.table, "column": value.column, "value": value.last_value},
            )


def load_table(cursor: psycopg.Cursor[Any], source: Path, table: TableDump) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns))
    )
    with cursor.copy(statement) as copy:
        for chunk in read_chunks(source / table.file.path):
            copy.write(chunk)
    if cursor.rowcount != table.rows:
        raise InvalidBackup(
            f"{table.file.path} held {cursor.rowcount} rows, the manifest says {table.rows}."
        )


def copy_media(store: MediaStore, source: Path, manifest: Manifest, written: list[str]) -> None:
    """Copy the backup's media into the volume, adding each file to ``written`` (for an undo)."""
    store.ensure_layout()
    for item in manifest.media:
        with (source / MEDIA_DIR / item.path).open("rb") as stream:
            store.write_file(item.path, stream)
        written.append(item.path)
