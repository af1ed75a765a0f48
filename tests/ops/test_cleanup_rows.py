"""The retention job interrupting overdue jobs and pruning old rows in a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import LoginAttempt
from app.bot.models import TelegramPendingPhoto, TelegramUpdate
from app.ingest.models import FINISH_GRACE
from app.ops.cleanup_jobs import INTERRUPTED_MESSAGE
from app.ratelimit import RateCounter
from tests.support.cleanup import (
    DAY,
    HOUR,
    RESULT_BYTES,
    add_job,
    add_result,
    cleanup,
    media_rows,
    reload,
)


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


def test_pending_jobs_within_the_grace_after_their_deadline_are_untouched(db_session, store, now):
    job = add_job(
        db_session, now, status="pending", with_result=False, deadline_in=-FINISH_GRACE / 2
    )

    assert cleanup(db_session, store, now).interrupted == 0
    row = reload(db_session, job)
    assert row is not None
    assert row.status == "pending"


def test_pending_jobs_become_interrupted_once_the_grace_has_passed(db_session, store, now):
    job = add_job(
        db_session,
        now,
        status="pending",
        with_result=False,
        deadline_in=-(FINISH_GRACE + timedelta(seconds=1)),
    )

    assert cleanup(db_session, store, now).interrupted == 1
    row = reload(db_session, job)
    assert row is not None
    assert row.status == "interrupted"


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
