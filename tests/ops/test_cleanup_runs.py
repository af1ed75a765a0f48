"""A retention run as a whole: dry runs, repeated runs, the lock against a second copy and
the summary line."""

from __future__ import annotations

import sqlalchemy as sa

from app.ops.cleanup import LOCK_KEY
from app.ops.cleanup_summary import CleanupSummary
from tests.support.cleanup import (
    HOUR,
    RESULT_BYTES,
    add_result,
    cleanup,
    database_snapshot,
    populate,
    reload,
    without_timing,
)
from tests.support.database import connected
from tests.support.stored import files_under


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

    with connected(database_url) as other:
        taken = other.scalar(
            sa.text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"), {"key": LOCK_KEY}
        )
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
