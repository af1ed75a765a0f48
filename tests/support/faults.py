"""What a fault must not leave behind: jobs still pending, files on the media volume."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ingest.models import Job, JobStatus
from tests.support.stored import files_under


def assert_nothing_left(db_session: Session, media_root: Path) -> list[Job]:
    """No job still pending and no file anywhere under the media root; returns the jobs."""
    db_session.expire_all()
    jobs = list(db_session.scalars(select(Job)))
    assert [job.id for job in jobs if job.status == JobStatus.PENDING] == []
    assert files_under(media_root) == []
    return jobs
