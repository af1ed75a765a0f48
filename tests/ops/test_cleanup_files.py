"""The retention job removing stale temp entries and orphan result folders from a real volume."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import make_engine
from tests.support.cleanup import (
    HOUR,
    RESULT_BYTES,
    add_job,
    add_result,
    cleanup,
    set_age,
    write_folder,
)


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
