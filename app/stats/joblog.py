"""The jobs log: filtered, newest first, paged by keyset on ``(created_at, id)``.

A page is found by an index range whatever its depth, so the millionth row costs what the first
does; a cursor names the row a page ends at.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.ingest.ids import is_job_id
from app.ingest.models import Job

PAGE_SIZE = 50


class CursorInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    job_id: str

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.job_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stamp, job_id = raw.split("|")
            created_at = datetime.fromisoformat(stamp)
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as error:
            raise CursorInvalid(text) from error
        if created_at.tzinfo is None or not is_job_id(job_id):
            raise CursorInvalid(text)
        return cls(created_at, job_id)

    @classmethod
    def of(cls, job: Job) -> Cursor:
        return cls(job.created_at, job.id)


@dataclass(frozen=True)
class JobFilters:
    slot_id: str | None = None
    status: str | None = None
    source: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    """Exclusive."""

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        conditions = []
        if self.slot_id:
            conditions.append(Job.slot_id == self.slot_id)
        if self.status:
            conditions.append(Job.status == self.status)
        if self.source:
            conditions.append(Job.source == self.source)
        if self.created_from:
            conditions.append(Job.created_at >= self.created_from)
        if self.created_to:
            conditions.append(Job.created_at < self.created_to)
        return conditions


@dataclass(frozen=True)
class JobPage:
    jobs: list[Job]
    older: Cursor | None
    """Where the next (older) page starts after, if there is one."""
    newer: Cursor | None
    """Where the previous (newer) page starts before, unless this is the first page."""


def list_jobs(
    session: Session,
    filters: JobFilters,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> JobPage:
    """Jobs older than ``after`` or newer than ``before`` (or the newest), newest first."""
    key = sa.tuple_(Job.created_at, Job.id)
    statement = sa.select(Job).where(*filters.conditions()).limit(limit + 1)
    if before is not None:
        statement = statement.where(key > sa.tuple_(before.created_at, before.job_id))
        rows = list(session.scalars(statement.order_by(Job.created_at, Job.id)))
        jobs = rows[:limit][::-1]
        newer = Cursor.of(jobs[0]) if len(rows) > limit else None
        return JobPage(jobs, Cursor.of(jobs[-1]) if jobs else None, newer)
    if after is not None:
        statement = statement.where(key < sa.tuple_(after.created_at, after.job_id))
    rows = list(session.scalars(statement.order_by(Job.created_at.desc(), Job.id.desc())))
    jobs = rows[:limit]
    older = Cursor.of(jobs[-1]) if len(rows) > limit else None
    newer = Cursor.of(jobs[0]) if after is not None and jobs else None
    return JobPage(jobs, older, newer)


def find_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id) if is_job_id(job_id) else None
