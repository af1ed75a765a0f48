"""A ZIP of a slot's live results, streamed from disk a chunk at a time (never built in memory)."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.ingest.models import Job
from app.media.storage import MediaStore, ResultKind, UnsafePath

ZIP_CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class ZipEntry:
    name: str
    path: Path
    modified: datetime


def zip_entries(store: MediaStore, slot_id: str, jobs: Iterable[Job]) -> list[ZipEntry]:
    """``<slot_id>/<job_id>.<ext>`` for each result's payload file."""
    entries = []
    for job in jobs:
        try:
            path = store.result_file(job, ResultKind.PAYLOAD)
        except UnsafePath:
            continue
        modified = job.finished_at or job.created_at
        entries.append(ZipEntry(f"{slot_id}/{job.id}{path.suffix}", path, modified))
    return entries


class _Sink:
    """A write-only, unseekable file for ``zipfile`` that hands over what was written so far."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        """What was written since the last call (the local header comes with the first chunk)."""
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def zip_chunks(entries: Iterable[ZipEntry]) -> Iterator[bytes]:
    """A ZIP of ``entries`` (stored, not compressed: images already are), produced a chunk at a
    time while reading each file, so memory stays flat however large the archive. A file removed
    meanwhile (by the cleanup) is left out."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for entry in entries:
            try:
                file = entry.path.open("rb")
            except FileNotFoundError:
                continue
            with file:
                info = zipfile.ZipInfo(entry.name, date_time=entry.modified.timetuple()[:6])
                large = os.fstat(file.fileno()).st_size > zipfile.ZIP64_LIMIT
                with archive.open(info, "w", force_zip64=large) as member:
                    while chunk := file.read(ZIP_CHUNK_BYTES):
                        member.write(chunk)
                        yield sink.take()
                yield sink.take()
    yield sink.take()
