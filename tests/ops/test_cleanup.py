"""The retention job against a real PostgreSQL and real files on a real media volume."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.auth.models import LoginAttempt
from app.bot.models import TelegramPendingPhoto, TelegramUpdate
from app.config import PROJECT_ROOT
from app.db import make_engine, utcnow
from app.ingest.ids import new_job_id
from app.ingest.models import Job
from app.media.models import MediaObject
from app.media.storage import MediaStore
from app.ops.cleanup import (
    INTERRUPTED_MESSAGE,
    LOCK_KEY,
    run_cleanup,
    run_slot_cleanup,
)
from app.ops.cleanup_summary import CleanupSummary
from app.ops.models import RateCounter
from tests.support.servers import free_port
from tests.support.stored import files_under

SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RESULT_FILES = {"payload.jpg": b"p" * 3000, "preview.webp": b"v" * 500, "source.jpg": b"s" * 4000}
RESULT_BYTES = sum(len(content) for content in RESULT_FILES.values())
PHOTOCHANGER = Path(sys.executable).with_name("photochanger")


@pytest.fixture
def now() -> datetime:
    return utcnow()


@pytest.fixture
def store(media_root: Path) -> MediaStore:
    media_store = MediaStore(media_root)
    media_store.ensure_layout()
    return media_store


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


def test_expired_results_are_deleted_and_their_rows_marked_cleaned(db_session, store, now):
    job, folder = add_result(db_session, store, now, expires_in=-HOUR)

    summary = cleanup(db_session, store, now)

    assert not folder.exists()
    assert summary.expired_results == 1
    assert summary.bytes_freed == RESULT_BYTES
    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at == now
    assert row.status == "done"
    media = media_rows(db_session, job)
    assert len(media) == 3
    assert all(m.deleted_at == now for m in media)


def test_a_result_expiring_exactly_now_is_deleted(db_session, store, now):
    _, folder = add_result(db_session, store, now, expires_in=timedelta(0))

    assert cleanup(db_session, store, now).expired_results == 1
    assert not folder.exists()


def test_live_results_are_never_touched_even_when_their_folder_is_old(db_session, store, now):
    job, folder = add_result(
        db_session, store, now, expires_in=HOUR, created_ago=71 * HOUR, folder_age=71 * HOUR
    )

    summary = cleanup(db_session, store, now)

    assert [p.name for p in files_under(folder)] == sorted(RESULT_FILES)
    assert without_timing(summary) == CleanupSummary()
    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at is None
    assert all(m.deleted_at is None for m in media_rows(db_session, job))


def test_expired_results_are_deleted_across_many_batches(db_session, store, now):
    folders = [add_result(db_session, store, now, expires_in=-HOUR)[1] for _ in range(5)]

    summary = cleanup(db_session, store, now, batch_size=2)

    assert summary.expired_results == 5
    assert not any(folder.exists() for folder in folders)
    assert db_session.scalar(select(func.count()).where(Job.cleaned_at.is_(None))) == 0


def test_an_expired_result_whose_folder_is_already_gone_is_still_marked_cleaned(
    db_session, store, now
):
    job = add_job(db_session, now, expires_in=-HOUR)

    summary = cleanup(db_session, store, now)

    assert summary.expired_results == 1
    assert summary.bytes_freed == 0
    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at == now


def test_a_result_path_outside_results_is_marked_cleaned_but_nothing_is_deleted(
    db_session, store, now
):
    template = store.templates_dir / "slot-001" / "style.png"
    template.parent.mkdir()
    template.write_bytes(b"template")
    job = add_job(db_session, now, expires_in=-HOUR)
    db_session.execute(
        sa.update(Job).where(Job.id == job.id).values(result_path="templates/slot-001")
    )
    db_session.commit()

    summary = cleanup(db_session, store, now)

    assert template.read_bytes() == b"template"
    assert summary.expired_results == 1
    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at == now


def test_a_missing_media_root_is_an_error_and_no_row_is_marked_cleaned(db_session, now, tmp_path):
    job = add_job(db_session, now, expires_in=-HOUR)

    with pytest.raises(FileNotFoundError, match="media root"):
        cleanup(db_session, MediaStore(tmp_path / "not-mounted"), now)

    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at is None


def test_templates_are_never_touched_however_old(db_session, store, now):
    folder = store.templates_dir / "slot-003"
    folder.mkdir()
    (folder / "face.jpg").write_bytes(b"face")
    set_age(folder / "face.jpg", now, 400 * DAY)
    set_age(folder, now, 400 * DAY)

    cleanup(db_session, store, now)

    assert (folder / "face.jpg").read_bytes() == b"face"


def test_a_folder_that_cannot_be_removed_is_reported_and_the_others_still_cleaned(
    db_session, store, now
):
    stuck_job, stuck_folder = add_result(db_session, store, now, expires_in=-2 * HOUR)
    other_job, other_folder = add_result(db_session, store, now, expires_in=-HOUR)

    class StubbornStore(MediaStore):
        def remove(self, relative: str) -> int:
            if relative == stuck_job.result_path:
                raise PermissionError(13, "Permission denied", relative)
            return super().remove(relative)

    summary = cleanup(db_session, StubbornStore(store.root), now)

    assert summary.errors == 1
    assert summary.expired_results == 1
    assert "1 error" in summary.line()
    assert stuck_folder.exists()
    assert not other_folder.exists()
    stuck, other = reload(db_session, stuck_job), reload(db_session, other_job)
    assert stuck is not None and stuck.cleaned_at is None
    assert other is not None and other.cleaned_at == now
    assert cleanup(db_session, store, now).expired_results == 1
    assert not stuck_folder.exists()


def test_a_run_stops_with_an_error_when_the_volume_refuses_every_deletion(
    db_session, store, now, monkeypatch
):
    monkeypatch.setattr("app.ops.cleanup.MAX_ERRORS", 3)
    jobs = [add_result(db_session, store, now, expires_in=-HOUR)[0] for _ in range(5)]

    class ReadOnlyStore(MediaStore):
        def remove(self, relative: str) -> int:
            raise OSError(30, "Read-only file system", relative)

    with pytest.raises(OSError, match="3 files could not be deleted"):
        cleanup(db_session, ReadOnlyStore(store.root), now)

    rows = [reload(db_session, job) for job in jobs]
    assert all(row is not None and row.cleaned_at is None for row in rows)


def test_temp_entries_older_than_an_hour_are_removed_and_fresh_ones_kept(db_session, store, now):
    old_file = store.temp_dir / "upload.tmp"
    old_file.write_bytes(b"x" * 100)
    set_age(old_file, now, 61 * timedelta(minutes=1))
    old_folder = write_folder(store, "temp/job.1234", now, 2 * HOUR)
    fresh_file = store.temp_dir / "fresh.tmp"
    fresh_file.write_bytes(b"y")
    set_age(fresh_file, now, 59 * timedelta(minutes=1))
    fresh_folder = write_folder(store, "temp/job.5678", now, timedelta(minutes=5))

    summary = cleanup(db_session, store, now)

    assert summary.temp_removed == 2
    assert summary.bytes_freed == 100 + RESULT_BYTES
    assert not old_file.exists()
    assert not old_folder.exists()
    assert fresh_file.exists()
    assert fresh_folder.exists()
    assert store.temp_dir.is_dir()


def test_an_old_symlink_in_temp_is_removed_without_following_it(db_session, store, now):
    target = store.templates_dir / "slot-001"
    target.mkdir()
    (target / "style.png").write_bytes(b"template")
    link = store.temp_dir / "link"
    link.symlink_to(target)
    set_age(link, now, 2 * HOUR)

    summary = cleanup(db_session, store, now)

    assert summary.temp_removed == 1
    assert not link.is_symlink()
    assert (target / "style.png").read_bytes() == b"template"


def test_orphan_result_folders_older_than_an_hour_are_removed(db_session, store, now):
    no_row = write_folder(store, "results/slot-001/AAAAAAAAAAAAAAAAAAAAAA", now, 2 * HOUR)
    cleaned_job = add_job(db_session, now, expires_in=-10 * HOUR, cleaned=True)
    assert cleaned_job.result_path
    cleaned = write_folder(store, cleaned_job.result_path, now, 2 * HOUR)
    failed_job = add_job(db_session, now, status="failed", slot_id="slot-002", with_result=False)
    failed = write_folder(store, f"results/slot-002/{failed_job.id}", now, 2 * HOUR)

    summary = cleanup(db_session, store, now)

    assert summary.orphans_removed == 3
    assert summary.bytes_freed == 3 * RESULT_BYTES
    assert not no_row.exists()
    assert not cleaned.exists()
    assert not failed.exists()
    assert (store.results_dir / "slot-001").is_dir()


def test_result_folders_of_live_jobs_are_kept_however_old(db_session, store, now):
    _, done = add_result(db_session, store, now, expires_in=HOUR, folder_age=70 * HOUR)
    pending_job = add_job(
        db_session, now, status="pending", with_result=False, deadline_in=timedelta(seconds=30)
    )
    pending = write_folder(store, f"results/slot-001/{pending_job.id}", now, 2 * HOUR)

    summary = cleanup(db_session, store, now)

    assert summary.orphans_removed == 0
    assert done.exists()
    assert pending.exists()


def test_orphan_folders_younger_than_an_hour_are_kept(db_session, store, now):
    young = write_folder(
        store, "results/slot-001/BBBBBBBBBBBBBBBBBBBBBB", now, 30 * timedelta(minutes=1)
    )

    assert cleanup(db_session, store, now).orphans_removed == 0
    assert young.exists()


def test_orphans_are_checked_against_the_database_in_batches(db_session, store, now, database_url):
    for n in range(40):
        write_folder(store, f"results/slot-00{n % 3 + 1}/orphan{n:016d}", now, 2 * HOUR)
    statements: list[str] = []
    engine = make_engine(database_url, pool_size=2)
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as session:
        summary = cleanup(session, store, now, batch_size=20)
    engine.dispose()

    assert summary.orphans_removed == 40
    # 3 slot folders of 13-14 orphans each: one query per folder batch, not one per orphan.
    assert sum("FROM jobs" in s and "ANY" in s for s in statements) == 3


def test_pending_jobs_past_their_deadline_become_interrupted(db_session, store, now):
    job = add_job(db_session, now, status="pending", with_result=False, deadline_in=-HOUR)

    summary = cleanup(db_session, store, now)

    assert summary.interrupted == 1
    row = reload(db_session, job)
    assert row is not None
    assert row.status == "interrupted"
    assert row.failure_reason == "interrupted"
    assert row.failure_message == INTERRUPTED_MESSAGE
    assert row.finished_at == now


def test_pending_jobs_within_their_deadline_are_untouched(db_session, store, now):
    job = add_job(
        db_session, now, status="pending", with_result=False, deadline_in=timedelta(seconds=20)
    )

    summary = cleanup(db_session, store, now)

    assert summary.interrupted == 0
    row = reload(db_session, job)
    assert row is not None
    assert row.status == "pending"
    assert row.failure_reason is None
    assert row.finished_at is None


def test_finished_jobs_past_their_deadline_are_not_interrupted(db_session, store, now):
    job = add_job(db_session, now, status="failed", with_result=False, deadline_in=-HOUR)

    assert cleanup(db_session, store, now).interrupted == 0
    row = reload(db_session, job)
    assert row is not None
    assert row.status == "failed"


def test_old_telegram_login_and_rate_rows_are_pruned_and_fresh_ones_kept(db_session, store, now):
    old, fresh = now - 49 * HOUR, now - 47 * HOUR
    db_session.add_all(
        [
            TelegramUpdate(update_id=1, received_at=old),
            TelegramUpdate(update_id=2, received_at=fresh),
            LoginAttempt(username="admin", ip="10.0.0.1", success=False, created_at=old),
            LoginAttempt(username="admin", ip="10.0.0.1", success=True, created_at=fresh),
            RateCounter(key="ip:10.0.0.1", window_start=old, count=3),
            RateCounter(key="ip:10.0.0.1", window_start=fresh, count=1),
            TelegramPendingPhoto(user_id=7, chat_id=7, file_id="old", expires_at=old),
            TelegramPendingPhoto(user_id=7, chat_id=7, file_id="new", expires_at=now - HOUR),
        ]
    )
    db_session.commit()

    summary = cleanup(db_session, store, now)

    assert summary.pruned_telegram_updates == 1
    assert summary.pruned_login_attempts == 1
    assert summary.pruned_rate_counters == 1
    assert summary.pruned_pending_photos == 1
    assert db_session.scalars(select(TelegramUpdate.update_id)).all() == [2]
    assert db_session.scalars(select(LoginAttempt.success)).all() == [True]
    assert db_session.scalars(select(RateCounter.count)).all() == [1]
    assert db_session.scalars(select(TelegramPendingPhoto.file_id)).all() == ["new"]


def test_jobs_older_than_90_days_are_deleted_with_their_media_rows(db_session, store, now):
    old = add_job(db_session, now, created_ago=91 * DAY, expires_in=-88 * DAY, cleaned=True)
    kept = add_job(db_session, now, created_ago=89 * DAY, expires_in=-86 * DAY, cleaned=True)

    summary = cleanup(db_session, store, now)

    assert summary.pruned_jobs == 1
    assert reload(db_session, old) is None
    assert media_rows(db_session, old) == []
    assert reload(db_session, kept) is not None
    assert len(media_rows(db_session, kept)) == 3


def test_a_result_left_over_by_a_90_day_old_job_is_removed_before_its_row(db_session, store, now):
    job, folder = add_result(
        db_session, store, now, created_ago=91 * DAY, expires_in=None, folder_age=91 * DAY
    )

    summary = cleanup(db_session, store, now)

    assert summary.pruned_jobs == 1
    assert summary.bytes_freed == RESULT_BYTES
    assert not folder.exists()
    assert reload(db_session, job) is None


def test_dry_run_changes_nothing_but_reports_what_a_real_run_then_does(db_session, store, now):
    populate(db_session, store, now)
    files_before = {p: p.stat().st_mtime for p in files_under(store.root)}
    rows_before = database_snapshot(db_session)

    dry = cleanup(db_session, store, now, dry_run=True)

    assert {p: p.stat().st_mtime for p in files_under(store.root)} == files_before
    assert database_snapshot(db_session) == rows_before
    assert dry.dry_run
    assert dry.line().endswith("(dry run)")
    assert dry.expired_results == 2
    assert dry.temp_removed == 1
    assert dry.orphans_removed == 1
    assert dry.interrupted == 1
    assert dry.pruned_jobs == 2
    assert dry.pruned_rows == 5
    assert dry.bytes_freed == 4 * RESULT_BYTES
    real = cleanup(db_session, store, now)
    assert without_timing(real) == without_timing(dry)


def test_a_second_run_finds_nothing_to_do(db_session, store, now):
    populate(db_session, store, now)
    first = cleanup(db_session, store, now)
    files_after_first = files_under(store.root)
    rows_after_first = database_snapshot(db_session)

    second = cleanup(db_session, store, now)

    assert first.expired_results == 2
    assert without_timing(second) == CleanupSummary()
    assert files_under(store.root) == files_after_first
    assert database_snapshot(db_session) == rows_after_first


@pytest.fixture
def lock_held_elsewhere(database_url: str) -> Iterator[None]:
    """The cleanup lock taken by another session, as a second running copy would hold it."""
    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"), {"key": LOCK_KEY}
        )
        connection.commit()
        yield
    engine.dispose()


def test_a_second_copy_skips_while_the_first_holds_the_lock(
    db_session, store, now, lock_held_elsewhere
):
    job, folder = add_result(db_session, store, now, expires_in=-HOUR)

    summary = cleanup(db_session, store, now)

    assert summary.skipped
    assert summary.line() == "cleanup: skipped, another cleanup is running"
    assert folder.exists()
    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at is None


def test_the_lock_is_released_after_a_run(db_session, store, now, database_url):
    cleanup(db_session, store, now)

    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as other:
        taken = other.scalar(
            sa.text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"), {"key": LOCK_KEY}
        )
    engine.dispose()
    assert taken


def test_the_summary_line_reads_as_one_sentence():
    summary = CleanupSummary(
        expired_results=12,
        bytes_freed=int(3.4 * 1024 * 1024),
        temp_removed=2,
        interrupted=1,
        pruned_login_attempts=3,
        pruned_jobs=2,
        seconds=0.214,
    )

    assert summary.line() == (
        "cleanup: 12 expired results, 2 temp, 0 orphans, 1 interrupted, pruned 5 rows, "
        "3.4 MB freed in 0.21s"
    )


def cli_env(database_url: str, media_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOG_LEVEL")}
    return {
        **env,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "SECRET_KEY": "test-secret-key",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_cli_prints_the_summary_and_a_json_line_and_exits_zero(
    db_session, store, now, database_url, media_root, tmp_path
):
    _, folder = add_result(db_session, store, now, expires_in=-HOUR)

    done = run_cli([str(PHOTOCHANGER), "cleanup"], cli_env(database_url, media_root), tmp_path)

    assert done.returncode == 0, done.stderr
    summary_lines = [line for line in done.stdout.splitlines() if line.startswith("cleanup: ")]
    assert len(summary_lines) == 1
    assert summary_lines[0].startswith("cleanup: 1 expired results, 0 temp, 0 orphans")
    (finished,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.finished"]
    assert finished["expired_results"] == 1
    assert finished["bytes_freed"] == RESULT_BYTES
    assert finished["dry_run"] is False
    assert finished["skipped"] is False
    assert not folder.exists()


def test_cli_exits_zero_and_says_so_when_another_copy_is_running(
    database_url, media_root, tmp_path, lock_held_elsewhere
):
    done = run_cli([str(PHOTOCHANGER), "cleanup"], cli_env(database_url, media_root), tmp_path)

    assert done.returncode == 0, done.stderr
    assert "cleanup: skipped, another cleanup is running" in done.stdout.splitlines()
    (finished,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.finished"]
    assert finished["skipped"] is True


def test_cli_exits_non_zero_when_the_database_is_unreachable(media_root, tmp_path):
    url = f"postgresql://cleanup:s3cret-pw@127.0.0.1:{free_port()}/photochanger"

    done = run_cli([str(PHOTOCHANGER), "cleanup"], cli_env(url, media_root), tmp_path)

    assert done.returncode == 1
    (failed,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.failed"]
    assert failed["level"] == "error"
    assert "Traceback" in failed["exception"]
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert "cleanup: failed" in done.stderr


def test_cli_without_database_url_explains_and_exits_2(media_root, tmp_path):
    env = cli_env("", media_root)
    del env["DATABASE_URL"]

    done = run_cli([str(PHOTOCHANGER), "cleanup"], env, tmp_path)

    assert done.returncode == 2
    assert "DATABASE_URL is not set" in done.stderr


def test_cleanup_media_script_dry_run_works_from_any_directory(
    db_session, store, now, database_url, media_root, tmp_path
):
    _, folder = add_result(db_session, store, now, expires_in=-HOUR)
    script = PROJECT_ROOT / "scripts" / "cleanup_media.py"

    done = run_cli(
        [sys.executable, str(script), "--dry-run"], cli_env(database_url, media_root), tmp_path
    )

    assert done.returncode == 0, done.stderr
    assert any(
        line.startswith("cleanup: 1 expired results") and line.endswith("(dry run)")
        for line in done.stdout.splitlines()
    )
    (finished,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.finished"]
    assert finished["dry_run"] is True
    assert folder.exists()


def slot_cleanup(session: Session, store: MediaStore, now: datetime) -> CleanupSummary:
    session.expunge_all()
    return run_slot_cleanup(session, store, "slot-001", now=now)


def test_slot_cleanup_removes_only_that_slots_expired_results(db_session, store, now):
    expired, expired_folder = add_result(db_session, store, now, expires_in=-HOUR)
    live, live_folder = add_result(db_session, store, now, expires_in=HOUR)
    other, other_folder = add_result(db_session, store, now, slot_id="slot-002", expires_in=-HOUR)

    summary = slot_cleanup(db_session, store, now)

    assert (summary.expired_results, summary.bytes_freed) == (1, RESULT_BYTES)
    assert not expired_folder.exists()
    assert live_folder.exists()
    assert other_folder.exists()
    cleaned = {job.id: db_session.get(Job, job.id) for job in (expired, live, other)}
    assert {job_id: job and job.cleaned_at for job_id, job in cleaned.items()} == {
        expired.id: now,
        live.id: None,
        other.id: None,
    }
    assert all(m.deleted_at == now for m in media_rows(db_session, expired))
    assert all(m.deleted_at is None for m in media_rows(db_session, other))


def test_slot_cleanup_does_nothing_but_expire_results(db_session, store, now):
    populate(db_session, store, now)
    db_session.expunge_all()
    expired_ids = set(
        db_session.scalars(
            select(Job.id).where(Job.result_expires_at <= now, Job.cleaned_at.is_(None))
        )
    )
    before = database_snapshot(db_session)

    summary = slot_cleanup(db_session, store, now)

    assert without_timing(summary) == CleanupSummary(
        expired_results=len(expired_ids), bytes_freed=len(expired_ids) * RESULT_BYTES
    )
    after = database_snapshot(db_session)
    assert {
        table: rows for table, rows in after.items() if table not in ("jobs", "media_objects")
    } == {table: rows for table, rows in before.items() if table not in ("jobs", "media_objects")}
    assert len(after["jobs"]) == len(before["jobs"])
    assert (store.temp_dir / "staging.abcd").exists()
    assert (store.results_dir / "slot-002" / "orphanfolder00000000000").exists()
    assert db_session.scalar(select(func.count()).where(Job.status == "pending")) == 1


def test_slot_cleanup_skips_while_the_full_cleanup_holds_the_lock(
    db_session, store, now, lock_held_elsewhere
):
    job, folder = add_result(db_session, store, now, expires_in=-HOUR)

    summary = slot_cleanup(db_session, store, now)

    assert summary.skipped
    assert folder.exists()
    row = reload(db_session, job)
    assert row is not None
    assert row.cleaned_at is None
