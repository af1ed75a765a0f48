"""Arranging what the retention job acts on: job rows with their media rows, result-like
folders aged on a real media volume, and one of everything it must act on or keep."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import LoginAttempt
from app.bot.models import TelegramUpdate
from app.ingest.ids import new_job_id
from app.ingest.models import Job
from app.media.models import MediaObject
from app.media.storage import MediaStore
from app.ops.cleanup import run_cleanup
from app.ops.cleanup_summary import CleanupSummary
from app.ratelimit import RateCounter

SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RESULT_FILES = {"payload.jpg": b"p" * 3000, "preview.webp": b"v" * 500, "source.jpg": b"s" * 4000}
RESULT_BYTES = sum(len(content) for content in RESULT_FILES.values())


def set_age(path: Path, now: datetime, age: timedelta) -> None:
    stamp = (now - age).timestamp()
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def write_folder(store: MediaStore, relative: str, now: datetime, age: timedelta) -> Path:
    """A result-like folder with three small files, files and folder last modified ``age`` ago."""
    folder = store.root / relative
    folder.mkdir(parents=True)
    for name, content in RESULT_FILES.items():
        (folder / name).write_bytes(content)
        set_age(folder / name, now, age)
    set_age(folder, now, age)
    return folder


def add_job(
    session: Session,
    now: datetime,
    *,
    status: str = "done",
    slot_id: str = "slot-001",
    created_ago: timedelta = 2 * HOUR,
    expires_in: timedelta | None = 70 * HOUR,
    with_result: bool = True,
    cleaned: bool = False,
    deadline_in: timedelta | None = None,
) -> Job:
    """A job row as ingest leaves it, with its media rows when it has a result."""
    created = now - created_ago
    job = Job(
        id=new_job_id(),
        slot_id=slot_id,
        source="ingest",
        status=status,
        provider="local",
        client_meta={},
        created_at=created,
        started_at=created,
        deadline_at=now + deadline_in if deadline_in is not None else created + 48 * SECOND,
        finished_at=None if status == "pending" else created + 3 * SECOND,
    )
    if with_result:
        job.result_path = f"results/{slot_id}/{job.id}"
        job.result_mime = "image/jpeg"
        job.result_bytes = len(RESULT_FILES["payload.jpg"])
        job.result_expires_at = None if expires_in is None else now + expires_in
        job.cleaned_at = now - HOUR if cleaned else None
    session.add(job)
    session.flush()
    if with_result:
        for name, content in RESULT_FILES.items():
            session.add(
                MediaObject(
                    job_id=job.id,
                    slot_id=slot_id,
                    kind=name.split(".")[0],
                    path=f"{job.result_path}/{name}",
                    mime="image/webp" if name.endswith("webp") else "image/jpeg",
                    size_bytes=len(content),
                    created_at=created,
                    deleted_at=job.cleaned_at,
                )
            )
    session.commit()
    return job


def add_result(
    session: Session,
    store: MediaStore,
    now: datetime,
    *,
    folder_age: timedelta = 2 * HOUR,
    **kw: Any,
) -> tuple[Job, Path]:
    job = add_job(session, now, **kw)
    assert job.result_path
    return job, write_folder(store, job.result_path, now, folder_age)


def cleanup(session: Session, store: MediaStore, now: datetime, **kw: Any) -> CleanupSummary:
    """Run as of ``now``; the arranged objects are detached so assertions read fresh rows."""
    session.expunge_all()
    return run_cleanup(session, store, now=now, **kw)


def reload(session: Session, job: Job) -> Job | None:
    return session.get(Job, job.id)


def media_rows(session: Session, job: Job) -> list[MediaObject]:
    return list(session.scalars(select(MediaObject).where(MediaObject.job_id == job.id)))


def without_timing(summary: CleanupSummary) -> CleanupSummary:
    return dataclasses.replace(summary, seconds=0.0, dry_run=False)


def populate(session: Session, store: MediaStore, now: datetime) -> None:
    """One of everything the cleanup acts on, and one of everything it must keep."""
    add_result(session, store, now, expires_in=-HOUR)
    add_result(session, store, now, expires_in=HOUR)
    add_job(session, now, status="pending", with_result=False, deadline_in=-timedelta(minutes=5))
    add_job(session, now, with_result=False, created_ago=91 * DAY)
    add_result(session, store, now, created_ago=91 * DAY, expires_in=-88 * DAY)
    write_folder(store, "results/slot-002/orphanfolder00000000000", now, 2 * HOUR)
    write_folder(store, "temp/staging.abcd", now, 2 * HOUR)
    (store.temp_dir / "fresh").write_bytes(b"in flight")
    (store.templates_dir / "slot-001").mkdir()
    template = store.templates_dir / "slot-001" / "style.png"
    template.write_bytes(b"template")
    set_age(template, now, 400 * DAY)
    session.add_all(
        [
            TelegramUpdate(update_id=1, received_at=now - 49 * HOUR),
            TelegramUpdate(update_id=2, received_at=now - HOUR),
            LoginAttempt(username="admin", ip="10.0.0.1", success=False, created_at=now - 3 * DAY),
            RateCounter(key="ip:10.0.0.1", window_start=now - 3 * DAY, count=4),
        ]
    )
    session.commit()


def database_snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        "jobs",
        "media_objects",
        "telegram_updates",
        "telegram_pending_photos",
        "login_attempts",
        "rate_counters",
    ]
    return {
        table: sorted(
            tuple(row)
            for row in session.execute(sa.text(f"SELECT * FROM {table}"))  # noqa: S608
        )
        for table in tables
    }


def summary_lines(output: str) -> list[str]:
    """The summary lines ``photochanger cleanup`` prints among its log lines."""
    return [line for line in output.splitlines() if line.startswith("cleanup: ")]
