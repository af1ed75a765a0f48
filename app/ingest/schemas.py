"""What a photo request carries into the ingest pipeline and what it gets back.

The booth route, the admin test run and the Telegram bot each build an ``IngestRequest``; the
pipeline in ``app.ingest.service`` turns it into an ``IngestResult`` or an ``IngestError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

from app.deadline import Deadline
from app.slots.models import Slot


@dataclass(frozen=True)
class Upload:
    """The photo part of a request, spooled by the request parser to a seekable file."""

    stream: IO[bytes]
    filename: str | None


@dataclass(frozen=True)
class IngestRequest:
    slot: Slot
    source: str
    upload: Upload | None
    client_meta: dict[str, str]
    idempotency_key: str | None
    dedupe_by_content: bool
    arrived_at: datetime
    deadline: Deadline


@dataclass(frozen=True)
class IngestResult:
    job_id: str
    payload: bytes
    mime: str
    replay: bool = False


@dataclass(frozen=True)
class CheckedUpload:
    stream: IO[bytes]
    size: int
    sha256: str
    mime: str
