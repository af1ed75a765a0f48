"""The on-disk format of ``photochanger backup`` and what both commands share.

A backup is a folder::

    manifest.json          written last: a folder without it is not a complete backup
    database/<table>.copy  one file per table, PostgreSQL's COPY text format (UTF-8, tab-separated,
                           ``\\N`` for NULL, one row per line), columns as the manifest lists them
    media/<relative path>  the live media files, at their path relative to MEDIA_ROOT

The manifest (JSON) holds the format version, the app version, the Alembic revision the rows
belong to, the snapshot time, each table with its columns, row count, size and SHA-256 (in
foreign-key order), each serial column's sequence value, each media file with its size and
SHA-256, the media files the snapshot referenced that were gone when copied (expired results the
cleanup deleted meanwhile), and a keyed check value of SECRET_KEY (never the key itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from app.config import Config
from app.ops.serve import effective_config

FORMAT = "photochanger-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PARTIAL_NAME = ".partial"
DATABASE_DIR = "database"
MEDIA_DIR = "media"
CHUNK = 1024 * 1024

EXIT_FAILED = 1
"""The command could not do its job (database unreachable, disk error…)."""
EXIT_REFUSED = 3
"""The target is not empty: nothing was changed."""
EXIT_INVALID_BACKUP = 4
"""The backup folder is missing, incomplete, corrupted or of an unknown format."""

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BackupError(Exception):
    """A backup or restore that cannot go on: ``message`` says why, ``exit_code`` how it ends."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class InvalidBackup(BackupError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_INVALID_BACKUP)


@dataclass(frozen=True)
class StoredCopy:
    """A file of the backup: its path inside the backup folder (or under MEDIA_ROOT for media),
    its size and its SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class TableDump:
    name: str
    columns: list[str]
    rows: int
    file: StoredCopy


@dataclass(frozen=True)
class SequenceValue:
    """The sequence behind a serial column; ``last_value`` is None when it was never used."""

    table: str
    column: str
    last_value: int | None


@dataclass
class Manifest:
    app_version: str
    alembic_revision: str
    created_at: str
    secret_key_check: str | None
    tables: list[TableDump] = field(default_factory=list)
    sequences: list[SequenceValue] = field(default_factory=list)
    media: list[StoredCopy] = field(default_factory=list)
    skipped_media: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        document = {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """The manifest in ``text``; raises ``InvalidBackup`` for anything malformed."""
        try:
            document = json.loads(text)
            if document.get("format") != FORMAT:
                raise InvalidBackup(f"{MANIFEST_NAME} is not a PhotoChanger backup manifest.")
            if document.get("format_version") != FORMAT_VERSION:
                raise InvalidBackup(
                    f"Backup format version {document.get('format_version')!r} is not supported "
                    f"(this PhotoChanger reads version {FORMAT_VERSION})."
                )
            manifest = cls(
                app_version=str(document["app_version"]),
                alembic_revision=str(document["alembic_revision"]),
                created_at=str(document["created_at"]),
                secret_key_check=document["secret_key_check"],
                tables=[
                    TableDump(
                        name=table["name"],
                        columns=list(table["columns"]),
                        rows=int(table["rows"]),
                        file=stored_copy(table["file"]),
                    )
                    for table in document["tables"]
                ],
                sequences=[SequenceValue(**value) for value in document["sequences"]],
                media=[stored_copy(item) for item in document["media"]],
                skipped_media=list(document["skipped_media"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidBackup(f"{MANIFEST_NAME} is malformed ({error}).") from None
        manifest.check_names()
        return manifest

    def check_names(self) -> None:
        """Refuse table, column and file names a tampered manifest could abuse."""
        for table in self.tables:
            for name in (table.name, *table.columns):
                if not IDENTIFIER.match(name):
                    raise InvalidBackup(f"{MANIFEST_NAME} names an invalid identifier {name!r}.")
            if table.file.path != f"{DATABASE_DIR}/{table.name}.copy":
                raise InvalidBackup(
                    f"{MANIFEST_NAME} names an unexpected file {table.file.path!r}."
                )
        for item in self.media:
            if not is_safe_relative(item.path):
                raise InvalidBackup(f"{MANIFEST_NAME} names an unsafe media path {item.path!r}.")


def stored_copy(item: dict[str, Any]) -> StoredCopy:
    copy = StoredCopy(path=str(item["path"]), size=int(item["size"]), sha256=str(item["sha256"]))
    if not SHA256.match(copy.sha256) or copy.size < 0:
        raise ValueError(f"bad size or checksum for {copy.path}")
    return copy


def is_safe_relative(relative: str) -> bool:
    path = PurePosixPath(relative)
    return (
        bool(relative)
        and not path.is_absolute()
        and "\\" not in relative
        and "\x00" not in relative
        and all(part not in ("", ".", "..") for part in path.parts)
    )


class HashingWriter:
    """Writes a file while measuring its size and SHA-256."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.size = 0
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.out.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)


@contextmanager
def hashed_file(target: Path) -> Iterator[HashingWriter]:
    """A new file at ``target`` (folders created), flushed to disk when the block ends."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        writer = HashingWriter(out)
        yield writer
        out.flush()
        os.fsync(out.fileno())


def read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def file_digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for chunk in read_chunks(path):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def verify_files(root: Path, files: Iterable[StoredCopy]) -> None:
    """Raise ``InvalidBackup`` unless every file under ``root`` has its recorded size and
    SHA-256."""
    for item in files:
        path = root / item.path
        if not path.is_file():
            raise InvalidBackup(f"{path} is missing: the backup is incomplete.")
        size, sha256 = file_digest(path)
        if (size, sha256) != (item.size, item.sha256):
            raise InvalidBackup(
                f"{path} does not match its checksum in {MANIFEST_NAME} "
                f"({size} bytes, sha256 {sha256[:12]}…; expected {item.size} bytes, "
                f"{item.sha256[:12]}…): the backup is corrupted."
            )


def installed_secret_keys(config: Config) -> list[str]:
    """SECRET_KEY (else the one ``serve`` generated beside MEDIA_ROOT, if any), then the
    SECRET_KEY_FALLBACKS."""
    return [key for key in effective_config(config).secret_keys if key]


def secret_key_check(secret_key: str | None) -> str | None:
    """A value that tells whether two installs share SECRET_KEY without revealing it."""
    if not secret_key:
        return None
    return hmac.new(secret_key.encode(), b"photochanger backup key check", "sha256").hexdigest()


def report_failure(command: str, error: Exception) -> int:
    """Print why ``command`` failed on one line and return its exit status: a ``BackupError``'s
    own, else ``EXIT_FAILED`` (the database, the disk, the embedded server)."""
    if isinstance(error, BackupError):
        print(f"{command}: {error.message}", file=sys.stderr)
        return error.exit_code
    print(f"{command}: failed: {first_line(error)}", file=sys.stderr)
    return EXIT_FAILED


def first_line(error: BaseException) -> str:
    """An exception's first line, for a one-line command message."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
