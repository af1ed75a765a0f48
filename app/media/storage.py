"""The media volume: where results, templates and in-flight files live, and how they get there.

Results are assembled in ``temp/`` and moved into ``results/<slot_id>/<job_id>/`` with one
rename, so a reader never sees a half-written result and a crash leaves only a temp folder that
the cleanup removes. A result folder holds ``payload.<ext>`` (what the guest gets),
``preview.webp`` and ``source.<ext>`` (the upload); only this module names those files.
"""

from __future__ import annotations

import errno
import io
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from app.media.images import EXTENSION_BY_MIME

PREVIEW_MIME = "image/webp"

SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")
"""A single path segment: no separators, never ``.`` or ``..`` or a hidden name."""


STORAGE_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error`` says the media volume (or the owner's quota) has no room left."""
    return isinstance(error, OSError) and error.errno in STORAGE_FULL_ERRNOS


class UnsafePath(ValueError):
    pass


class ResultKind(StrEnum):
    PAYLOAD = "payload"
    PREVIEW = "preview"
    SOURCE = "source"


@dataclass(frozen=True)
class ResultParts:
    """The files of one result: the processed image, its preview (WebP) and the upload."""

    payload: bytes
    payload_mime: str
    preview: bytes
    source: bytes | IO[bytes]
    source_mime: str

    def files(self) -> list[tuple[ResultKind, bytes | IO[bytes], str]]:
        return [
            (ResultKind.PAYLOAD, self.payload, self.payload_mime),
            (ResultKind.PREVIEW, self.preview, PREVIEW_MIME),
            (ResultKind.SOURCE, self.source, self.source_mime),
        ]


@dataclass(frozen=True)
class StoredFile:
    """One written file, as its ``media_objects`` row records it."""

    kind: ResultKind
    path: str
    mime: str
    size_bytes: int


@dataclass(frozen=True)
class StoredResult:
    path: str
    """The result folder, relative to the volume (the job's ``result_path``)."""
    files: tuple[StoredFile, ...]

    def file(self, kind: ResultKind) -> StoredFile:
        return next(stored for stored in self.files if stored.kind == kind)


class JobResult(Protocol):
    """What a job row says about its result folder."""

    @property
    def result_path(self) -> str | None: ...

    @property
    def result_mime(self) -> str | None: ...

    @property
    def input_mime(self) -> str | None: ...


def result_file_name(kind: ResultKind, mime: str) -> str:
    return f"{kind}.{EXTENSION_BY_MIME[mime]}"


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.temp_dir = self.root / "temp"
        self.results_dir = self.root / "results"
        self.templates_dir = self.root / "templates"

    def ensure_layout(self) -> None:
        for folder in (self.temp_dir, self.results_dir, self.templates_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def path(self, relative: str) -> Path:
        """The absolute path of a stored relative path, refusing anything outside the volume."""
        if "\x00" in relative:
            raise UnsafePath(relative)
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or candidate == self.root:
            raise UnsafePath(relative)
        return candidate

    def relative(self, path: Path) -> str:
        """``path`` as a stored relative path (``results/…``); refuses one outside the volume."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            raise UnsafePath(str(path))
        return resolved.relative_to(self.root).as_posix()

    def spool_file(self) -> IO[bytes]:
        """An unnamed temp file on the volume for an upload; it vanishes when closed unless it
        was stored as a result's source (``write_result`` links it into place).

        Opened with ``O_TMPFILE`` but without ``O_EXCL`` (which ``tempfile`` adds), so it can be
        given a name later; a filesystem without ``O_TMPFILE`` gets an ordinary temp file, which
        ``write_result`` copies instead.
        """
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(self.temp_dir, os.O_TMPFILE | os.O_RDWR, 0o666)
        except (AttributeError, OSError):
            return tempfile.TemporaryFile(dir=self.temp_dir)
        return open(descriptor, "w+b")  # noqa: PTH123 - a descriptor, not a path

    def result_relpath(self, slot_id: str, job_id: str) -> str:
        for name in (slot_id, job_id):
            if not SAFE_NAME.match(name):
                raise UnsafePath(name)
        return f"results/{slot_id}/{job_id}"

    @staticmethod
    def is_result_relpath(relative: str) -> bool:
        """Whether ``relative`` has the shape of a result folder, ``results/<slot>/<job>``."""
        parts = PurePosixPath(relative).parts
        return len(parts) == 3 and parts[0] == "results" and all(map(SAFE_NAME.match, parts))

    def write_result(self, slot_id: str, job_id: str, parts: ResultParts) -> StoredResult:
        """Write ``parts`` as one result folder atomically; returns what was stored where."""
        relative = self.result_relpath(slot_id, job_id)
        staging = self.temp_dir / f"{job_id}.{secrets.token_hex(4)}"
        staging.mkdir(parents=True)
        stored = []
        try:
            for kind, content, mime in parts.files():
                name = result_file_name(kind, mime)
                if isinstance(content, bytes):
                    size = (staging / name).write_bytes(content)
                else:
                    size = _link_or_copy(content, staging / name)
                stored.append(StoredFile(kind, f"{relative}/{name}", mime, size))
            final = self.root / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return StoredResult(relative, tuple(stored))

    def result_file(self, job: JobResult, kind: ResultKind) -> Path:
        """Where a job's result file of ``kind`` is (whether or not it is still there).

        Raises ``UnsafePath`` when the job has no result or its path leaves the volume.
        """
        if kind is ResultKind.PAYLOAD:
            mime = job.result_mime
        elif kind is ResultKind.PREVIEW:
            mime = PREVIEW_MIME
        else:
            mime = job.input_mime
        if job.result_path is None or mime not in EXTENSION_BY_MIME:
            raise UnsafePath(f"{job.result_path}/{kind}")
        return self.path(f"{job.result_path}/{result_file_name(kind, mime)}")

    @staticmethod
    def template_relpath(slot_id: str, media_id: str, mime: str) -> str:
        """``templates/<slot_id>/<media_id>.<ext>``: a slot's template image."""
        return f"{_template_stem(slot_id, media_id)}.{EXTENSION_BY_MIME[mime]}"

    @staticmethod
    def template_preview_relpath(slot_id: str, media_id: str) -> str:
        """``templates/<slot_id>/<media_id>.preview.webp``: what the admin pages show of it."""
        return f"{_template_stem(slot_id, media_id)}.preview.webp"

    def write_file(self, relative: str, content: IO[bytes]) -> None:
        """Write one file through a temp file renamed into place, creating its folder."""
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        staging = self.temp_dir / f"{target.name}.{secrets.token_hex(4)}"
        try:
            with staging.open("wb") as out:
                content.seek(0)
                shutil.copyfileobj(content, out, 1024 * 1024)
            staging.replace(target)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise

    def remove(self, relative: str) -> int:
        """Delete a stored file or folder; returns the bytes freed (0 when already gone or when it
        could not be deleted). A symlink is removed itself, never followed."""
        link = self.root / relative
        if link.is_symlink():
            self.path(relative)
            link.unlink()
            return 0
        target = self.path(relative)
        if target.is_dir():
            freed = sum(f.stat().st_size for f in target.iterdir() if f.is_file())
            shutil.rmtree(target, ignore_errors=True)
            return 0 if target.exists() else freed
        try:
            freed = target.stat().st_size
            target.unlink()
        except FileNotFoundError:
            return 0
        return freed


def _link_or_copy(content: IO[bytes], target: Path) -> int:
    """Give the unnamed file behind ``content`` (a ``spool_file``) the name ``target``, or copy
    it there when it cannot be linked (a named temp file, memory, another filesystem). Linking
    spares copying the upload and creating and deleting a file per photo, which on ext4 is most
    of the kernel's share of a request. Returns the size."""
    if isinstance(content, io.BufferedRandom):
        content.flush()
        try:
            # linkat(AT_SYMLINK_FOLLOW) needs a directory descriptor: without one, os.link
            # calls link(), which links the /proc symlink itself and fails
            folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                source = f"/proc/self/fd/{content.fileno()}"
                os.link(source, target.name, dst_dir_fd=folder, follow_symlinks=True)
            finally:
                os.close(folder)
        except OSError:
            pass  # copied below
        else:
            return os.fstat(content.fileno()).st_size
    with target.open("wb") as out:
        content.seek(0)
        shutil.copyfileobj(content, out, 1024 * 1024)
        return out.tell()


def _template_stem(slot_id: str, media_id: str) -> str:
    for name in (slot_id, media_id):
        if not SAFE_NAME.match(name):
            raise UnsafePath(name)
    return f"templates/{slot_id}/{media_id}"
