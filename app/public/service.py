"""Finding a job's result for guests: expiry is decided by the database, not by the file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.ids import is_job_id
from app.ingest.models import Job
from app.media.images import EXTENSION_BY_MIME
from app.media.storage import MediaStore


class ResultNotFound(Exception):
    pass


class ResultExpired(Exception):
    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


@dataclass(frozen=True)
class LiveResult:
    job: Job
    payload: Path
    preview: Path

    @property
    def expires_at(self) -> datetime:
        assert self.job.result_expires_at is not None
        return self.job.result_expires_at


def find_live_result(session: Session, store: MediaStore, job_id: str) -> LiveResult:
    job = session.get(Job, job_id) if is_job_id(job_id) else None
    if job is None or job.status != "done" or not job.result_path or not job.result_mime:
        raise ResultNotFound(job_id)
    if job.cleaned_at is not None or (job.result_expires_at or utcnow()) <= utcnow():
        raise ResultExpired(job)
    folder = store.path(job.result_path)
    payload = folder / f"payload.{EXTENSION_BY_MIME[job.result_mime]}"
    if not payload.is_file():
        raise ResultNotFound(job_id)
    return LiveResult(job, payload, folder / "preview.webp")


def public_job_view(job: Job) -> dict[str, Any]:
    """What anyone holding the job id may read: no client metadata, no hashes."""
    return {
        "job_id": job.id,
        "slot_id": job.slot_id,
        "source": job.source,
        "status": job.status,
        "failure_reason": job.failure_reason,
        "provider": job.provider,
        "model": job.model,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        "duration_ms": job.duration_ms,
        "result_mime": job.result_mime,
        "result_expires_at": _iso(job.result_expires_at),
        "result_available": bool(
            job.status == "done"
            and job.cleaned_at is None
            and job.result_expires_at
            and job.result_expires_at > utcnow()
        ),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
