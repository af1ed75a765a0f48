"""``photochanger backup DIR``: the database and the live media, consistent with each other.

Every table is read in one ``REPEATABLE READ READ ONLY`` transaction (one snapshot, never
blocking the app), with ``COPY … TO STDOUT`` in PostgreSQL's text format, which any server
version reads back. The same snapshot names the media files its rows point at: the files of
live results and the slots' template images. Those are copied afterwards; files are never
rewritten in place, so a copy is the file the rows mean, and one deleted meanwhile belongs to a
result that expired (the cleanup's work) and is listed as skipped. Everything is written under
``DIR/.partial``, readable by its owner only, and moved into place with the manifest last, so an
interrupted backup never looks complete. The database is never migrated first: a backup taken
before an upgrade holds the schema the old version ran.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from graphlib import TopologicalSorter
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg import sql

from app.config import Config
from app.db import make_engine
from app.ingest.models import Job
from app.media.models import MediaObject
from app.media.storage import MediaStore, UnsafePath
from app.ops.backup_format import (
    DATABASE_DIR,
    EXIT_REFUSED,
    MANIFEST_NAME,
    MEDIA_DIR,
    PARTIAL_NAME,
    BackupError,
    Manifest,
    SequenceValue,
    StoredCopy,
    TableDump,
    hashed_file,
    installed_secret_keys,
    read_chunks,
    report_failure,
    secret_key_check,
)
from app.slots.models import TemplateMedia

TABLES = """
    SELECT c.oid, c.relname FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
      AND c.relname <> 'alembic_version'"""
FOREIGN_KEYS = """
    SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint k
    JOIN pg_class child ON child.oid = k.conrelid
    JOIN pg_class parent ON parent.oid = k.confrelid
    WHERE k.contype = 'f' AND child.relnamespace = current_schema()::regnamespace"""
COLUMNS = """
    SELECT attname FROM pg_attribute
    WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
    ORDER BY attnum"""
SEQUENCES = """
    SELECT t.relname AS table_name, a.attname AS column_name, s.last_value
    FROM pg_depend d
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    JOIN pg_class q ON q.oid = d.objid AND q.relkind = 'S'
    JOIN pg_sequences s
      ON s.schemaname = current_schema() AND s.sequencename = q.relname
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND t.relnamespace = current_schema()::regnamespace
    ORDER BY 1, 2"""


@dataclass(frozen=True)
class Snapshot:
    """What one database snapshot holds: its manifest so far and the media its rows name."""

    manifest: Manifest
    media_paths: list[str]
    previews: frozenset[str]
    """The template previews among ``media_paths``: a template may have none, so a missing one is
    left out rather than listed as skipped."""


def backup_command(config: Config, target: Path) -> int:
    """``photochanger backup``: 0 when the backup is complete, else a message and its status."""
    from app.ops.embedded_db import configured_database

    previous_umask = os.umask(0o077)  # the rows and photos are for the owner's eyes only
    try:
        prepare_target(target)
        with configured_database(config, migrate=False) as configured:
            manifest = write_backup(configured, target)
    except Exception as error:
        return report_failure("backup", error)
    finally:
        os.umask(previous_umask)
    rows = sum(table.rows for table in manifest.tables)
    size = sum(item.size for item in manifest.media)
    print(
        f"Backup written to {target}: {len(manifest.tables)} tables ({rows} rows) at revision "
        f"{manifest.alembic_revision}, {len(manifest.media)} media files ({size} bytes)."
    )
    if manifest.skipped_media:
        print(
            f"{len(manifest.skipped_media)} media files were deleted while the backup ran "
            f"(expired results); they are listed as skipped in {MANIFEST_NAME}."
        )
    print("Restoring it needs the same SECRET_KEY; keep the key safe apart from the backup.")
    return 0


def prepare_target(target: Path) -> None:
    """``target`` as a new or empty folder; refuses anything else before work starts."""
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} exists and is not a folder.", EXIT_REFUSED)
    if target.is_dir() and any(target.iterdir()):
        leftover = (
            " (an interrupted backup left .partial: remove it)"
            if (target / PARTIAL_NAME).exists()
            else ""
        )
        raise BackupError(f"{target} is not empty{leftover}; choose a new folder.", EXIT_REFUSED)
    target.mkdir(parents=True, exist_ok=True)


def write_backup(config: Config, target: Path) -> Manifest:
    """Dump the database and copy its media into ``target`` (new or empty); the manifest goes in
    last, so until then the folder is visibly incomplete."""
    assert config.database_url
    partial = target / PARTIAL_NAME
    partial.mkdir()
    try:
        snapshot = dump_database(config.database_url, partial / DATABASE_DIR)
        manifest = snapshot.manifest
        keys = installed_secret_keys(config)
        manifest.secret_key_check = secret_key_check(keys[0] if keys else None)
        store = MediaStore(config.media_root)
        manifest.media, manifest.skipped_media = copy_media(
            store, snapshot.media_paths, partial / MEDIA_DIR, snapshot.previews
        )
        with hashed_file(partial / MANIFEST_NAME) as out:
            out.write(manifest.to_json().encode())
        for name in (DATABASE_DIR, MEDIA_DIR, MANIFEST_NAME):
            (partial / name).rename(target / name)
        partial.rmdir()
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def dump_database(url: str, folder: Path) -> Snapshot:
    """Every table of the current schema (but Alembic's) into ``folder``, from one snapshot."""
    folder.mkdir()
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as connection:
            created_at: datetime = connection.scalar(sa.text("SELECT now()"))
            manifest = Manifest(
                app_version=app_version(),
                alembic_revision=connection.scalar(
                    sa.text("SELECT version_num FROM alembic_version")
                ),
                created_at=created_at.isoformat(),
                secret_key_check=None,
            )
            driver = cast(psycopg.Connection[Any], connection.connection.driver_connection)
            for oid, name in tables_in_load_order(connection):
                columns = list(connection.scalars(sa.text(COLUMNS), {"oid": oid}))
                manifest.tables.append(dump_table(driver, name, columns, folder))
            manifest.sequences = [
                SequenceValue(row.table_name, row.column_name, row.last_value)
                for row in connection.execute(sa.text(SEQUENCES))
            ]
            media_paths, previews = referenced_media(connection, created_at)
            connection.rollback()
    finally:
        engine.dispose()
    return Snapshot(manifest, media_paths, previews)


def tables_in_load_order(connection: sa.Connection) -> list[tuple[int, str]]:
    """The tables, each after the tables its foreign keys point at (ties by name)."""
    oids = {name: oid for oid, name in connection.execute(sa.text(TABLES))}
    graph: TopologicalSorter[str] = TopologicalSorter({name: set() for name in oids})
    for child, parent in connection.execute(sa.text(FOREIGN_KEYS)):
        if child != parent:
            graph.add(child, parent)
    graph.prepare()
    order: list[str] = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        order.extend(ready)
        graph.done(*ready)
    return [(oids[name], name) for name in order]


def dump_table(
    driver: psycopg.Connection[Any], table: str, columns: list[str], folder: Path
) -> TableDump:
    """One table as COPY text; each row ends in the one unescaped newline of its line."""
    statement = sql.SQL("COPY {} ({}) TO STDOUT").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    path = folder / f"{table}.copy"
    rows = 0
    with driver.cursor() as cursor, hashed_file(path) as out, cursor.copy(statement) as copy:
        for chunk in copy:
            out.write(chunk)
            rows += bytes(chunk).count(b"\n")
    stored = StoredCopy(f"{DATABASE_DIR}/{path.name}", out.size, out.digest.hexdigest())
    return TableDump(table, columns, rows, stored)


def referenced_media(connection: sa.Connection, now: datetime) -> tuple[list[str], frozenset[str]]:
    """The media files the snapshot's rows point at: live results' files and template images
    with their previews (the latter also returned apart). Results past their expiry are left out
    (their pages answer 410)."""
    results = (
        sa.select(MediaObject.path)
        .join(Job, Job.id == MediaObject.job_id)
        .where(MediaObject.deleted_at.is_(None), Job.live_result(now))
    )
    paths = set(connection.scalars(results))
    templates = sa.select(TemplateMedia.slot_id, TemplateMedia.media_id, TemplateMedia.path)
    previews: set[str] = set()
    for slot_id, media_id, path in connection.execute(templates):
        paths.add(path)
        previews.add(MediaStore.template_preview_relpath(slot_id, media_id))
    return sorted(paths | previews), frozenset(previews)


def copy_media(
    store: MediaStore, paths: list[str], folder: Path, optional: frozenset[str] = frozenset()
) -> tuple[list[StoredCopy], list[dict[str, str]]]:
    """Copy ``paths`` (relative to the volume) into ``folder``; a file gone by now is skipped,
    one of ``optional`` that is missing is left out."""
    copied: list[StoredCopy] = []
    skipped: list[dict[str, str]] = []
    folder.mkdir()
    for relative in paths:
        try:
            source = store.path(relative)
            chunks = read_chunks(source)
            first = next(chunks, b"")  # opens the file: a deleted one fails here
        except FileNotFoundError:
            if relative in optional:
                continue
            skipped.append({"path": relative, "reason": "deleted before it was copied"})
            continue
        except UnsafePath:
            skipped.append({"path": relative, "reason": "outside the media volume"})
            continue
        with hashed_file(folder / relative) as out:
            out.write(first)
            for chunk in chunks:
                out.write(chunk)
        copied.append(StoredCopy(relative, out.size, out.digest.hexdigest()))
    return copied, skipped


def app_version() -> str:
    try:
        return metadata.version("photochanger")
    except metadata.PackageNotFoundError:
        return "unknown"
