"""The retention job deleting expired results, against a real PostgreSQL and real files."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.ingest.models import Job
from app.media.storage import MediaStore
from app.ops.cleanup_summary import CleanupSummary
from tests.support.cleanup import (
    DAY,
    HOUR,
    RESULT_BYTES,
    RESULT_FILES,
    add_job,
    add_result,
    cleanup,
    media_rows,
    reload,
    set_age,
    without_timing,
)
from tests.support.stored import files_under


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
    monkeypatch.setattr("app.ops.cleanup_files.MAX_ERRORS", 3)
    jobs = [add_result(db_session, store, now, expires_in=-HOUR)[0] for _ in range(5)]

    class ReadOnlyStore(MediaStore):
        def remove(self, relative: str) -> int:
            raise OSError(30, "Read-only file system", relative)

    with pytest.raises(OSError, match="3 files could not be deleted"):
        cleanup(db_session, ReadOnlyStore(store.root), now)

    rows = [reload(db_session, job) for job in jobs]
    assert all(row is not None and row.cleaned_at is None for row in rows)
