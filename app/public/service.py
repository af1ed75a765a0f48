"""Finding a job and its result for guests: expiry is decided by the database, not by the file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.ids import is_job_id
from app.ingest.models import Job, JobSource
from app.media.storage import MediaStore, ResultKind
from app.slots.models import Slot, slot_ids
from app.urls import ResultLinks

ResultState = Literal["live", "expired", "none"]

GALLERY_SOURCES = (JobSource.INGEST,)
"""Only booth photos are shown in galleries: a Telegram chat or an admin's test run is private."""


class JobNotFound(Exception):
    pass


class ResultNotFound(Exception):
    pass


class ResultExpired(Exception):
    pass


class GalleryNotFound(Exception):
    pass


@dataclass(frozen=True)
class LiveResult:
    job_id: str
    mime: str
    payload: Path
    preview: Path
    expires_at: datetime

    @property
    def download_name(self) -> str:
        return f"photochanger-{self.job_id}{self.payload.suffix}"

    def seconds_left(self, now: datetime | None = None) -> int:
        return max(0, int((self.expires_at - (now or utcnow())).total_seconds()))


class PublicJob(BaseModel):
    """What anyone holding the job id may read: no client metadata, no hashes, no messages."""

    job_id: str
    slot_id: str
    source: str
    status: str
    failure_reason: str | None
    provider: str
    model: str | None
    created_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    result_mime: str | None
    result_expires_at: datetime | None
    result_available: bool
    result_url: str | None
    preview_url: str | None
    page_url: str | None


@dataclass(frozen=True)
class GalleryItem:
    job_id: str
    slot_id: str
    slot_name: str


def result_state(job: Job, now: datetime) -> ResultState:
    if job.has_live_result(now):
        return "live"
    return "expired" if job.produced_result else "none"


def find_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id) if is_job_id(job_id) else None
    if job is None:
        raise JobNotFound(job_id)
    return job


def find_live_result(
    session: Session, store: MediaStore, job_id: str, now: datetime | None = None
) -> LiveResult:
    """The files of a job's result while it is live; the file on disk never extends its life."""
    try:
        job = find_job(session, job_id)
    except JobNotFound:
        raise ResultNotFound(job_id) from None
    state = result_state(job, now or utcnow())
    if state == "none":
        raise ResultNotFound(job_id)
    if state == "expired":
        raise ResultExpired(job_id)
    assert job.result_mime and job.result_expires_at
    payload = store.result_file(job, ResultKind.PAYLOAD)
    if not payload.is_file():
        raise ResultNotFound(job_id)
    return LiveResult(
        job_id=job.id,
        mime=job.result_mime,
        payload=payload,
        preview=store.result_file(job, ResultKind.PREVIEW),
        expires_at=job.result_expires_at,
    )


def public_job_view(job: Job, links: ResultLinks, now: datetime | None = None) -> PublicJob:
    available = result_state(job, now or utcnow()) == "live"
    return PublicJob(
        job_id=job.id,
        slot_id=job.slot_id,
        source=job.source,
        status=job.status,
        failure_reason=job.failure_reason,
        provider=job.provider,
        model=job.model,
        created_at=_utc(job.created_at),
        finished_at=_utc(job.finished_at),
        duration_ms=job.duration_ms,
        result_mime=job.result_mime,
        result_expires_at=_utc(job.result_expires_at),
        result_available=available,
        result_url=links.file if available else None,
        preview_url=links.preview if available else None,
        page_url=links.page if available else None,
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None


def find_public_slot(session: Session, slot_id: str) -> Slot:
    """A slot whose gallery is public; unknown and private slots look the same to guests."""
    slot = session.get(Slot, slot_id) if slot_id in slot_ids() else None
    if slot is None or not slot.public_gallery:
        raise GalleryNotFound(slot_id)
    return slot


def live_results(
    session: Session, now: datetime, limit: int, slot_id: str | None = None
) -> list[GalleryItem]:
    """The newest live booth results (of one slot, or of all), newest first."""
    query = (
        select(Job.id, Job.slot_id, Slot.display_name)
        .join(Slot, Slot.slot_id == Job.slot_id)
        .where(Job.live_result(now), Job.source.in_(GALLERY_SOURCES))
        .order_by(Job.created_at.desc())
        .limit(limit)
    )
    if slot_id is not None:
        query = query.where(Job.slot_id == slot_id)
    return [
        GalleryItem(job_id=job_id, slot_id=slot, slot_name=name)
        for job_id, slot, name in session.execute(query)
    ]
