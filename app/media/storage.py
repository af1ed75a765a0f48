"""The media volume: where results, templates and in-flight files live, and how they get there.

Results are assembled in ``temp/`` and moved into ``results/<slot_id>/<job_id>/`` with one
rename, so a reader never sees a half-written result and a crash leaves only a temp folder that
the cleanup removes.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import IO

SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")
"""A single path segment: no separators, never ``.`` or ``..`` or a hidden name."""


class UnsafePath(ValueError):
    pass


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
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or candidate == self.root:
            raise UnsafePath(relative)
        return candidate

    def spool_file(self) -> IO[bytes]:
        """An unnamed temp file on the volume for an upload; it vanishes when closed."""
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryFile(dir=self.temp_dir)

    def result_relpath(self, slot_id: str, job_id: str) -> str:
        for name in (slot_id, job_id):
            if not SAFE_NAME.match(name):
                raise UnsafePath(name)
        return f"results/{slot_id}/{job_id}"

    def write_result(self, slot_id: str, job_id: str, files: dict[str, bytes | IO[bytes]]) -> str:
        """Write ``files`` as one result folder atomically; returns its relative path."""
        relative = self.result_relpath(slot_id, job_id)
        staging = self.temp_dir / f"{job_id}.{secrets.token_hex(4)}"
        staging.mkdir(parents=True)
        try:
            for name, content in files.items():
                if not SAFE_NAME.match(name):
                    raise UnsafePath(name)
                with (staging / name).open("wb") as out:
                    if isinstance(content, bytes):
                        out.write(content)
                    else:
                        content.seek(0)
                        shutil.copyfileobj(content, out, 1024 * 1024)
            final = self.root / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return relative

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
