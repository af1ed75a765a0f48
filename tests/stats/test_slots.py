"""slot_stats and the other aggregates, on known job rows in the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.db import utcnow
from app.slots.models import slot_ids
from app.stats.slots import slot_stats
from tests.support.jobs import add_job

DAY = timedelta(hours=24)


def test_slot_stats_lists_every_slot_even_without_jobs(db_session: Session) -> None:
    now = utcnow()
    stats = slot_stats(db_session, now - DAY, now)
    assert sorted(stats) == slot_ids()
    empty = stats["slot-005"]
    assert (empty.jobs, empty.succeeded, empty.success_rate, empty.p95_ms) == (0, 0, None, None)
    assert empty.last_job_at is None


def test_slot_stats_counts_outcomes_and_rates_over_finished_jobs(db_session: Session) -> None:
    now = utcnow()
    for duration in (100, 200, 300, 400, 500, 600):
        add_job(db_session, status="done", duration_ms=duration, now=now)
    add_job(db_session, status="timeout", duration_ms=48000, now=now)
    add_job(
        db_session, status="failed", failure_reason="provider_blocked", duration_ms=700, now=now
    )
    add_job(db_session, status="failed", failure_reason="invalid_image", duration_ms=10, now=now)
    add_job(db_session, status="pending", now=now)

    stats = slot_stats(db_session, now - DAY, now)["slot-001"]

    assert (stats.jobs, stats.succeeded, stats.timeouts, stats.provider_errors) == (10, 6, 1, 1)
    assert stats.success_rate == 6 / 9
    assert stats.timeout_rate == 1 / 9


def test_slot_stats_percentiles_of_successful_durations_within_five_percent(
    db_session: Session,
) -> None:
    now = utcnow()
    for duration in range(100, 1100, 100):
        add_job(db_session, duration_ms=duration, now=now, age=timedelta(hours=3))
    add_job(db_session, status="timeout", duration_ms=48000, now=now)
    add_job(db_session, status="pending", now=now)

    stats = slot_stats(db_session, now - DAY, now)["slot-001"]

    assert stats.p50_ms == pytest.approx(550, rel=0.05)
    assert stats.p95_ms == pytest.approx(955, rel=0.05)


def test_slot_stats_counts_only_jobs_created_in_the_window(db_session: Session) -> None:
    now = utcnow()
    add_job(db_session, age=timedelta(minutes=30), now=now)
    add_job(db_session, age=timedelta(hours=2), now=now)
    add_job(db_session, status="failed", age=timedelta(hours=3), now=now)

    hour = slot_stats(db_session, now - timedelta(hours=1), now)["slot-001"]
    day = slot_stats(db_session, now - DAY, now)["slot-001"]

    assert (hour.jobs, hour.success_rate, hour.last_error_reason) == (1, 1.0, None)
    assert (day.jobs, day.success_rate, day.last_error_reason) == (3, 2 / 3, "provider_error")


def test_slot_stats_last_job_ignores_the_window(db_session: Session) -> None:
    now = utcnow()
    old = add_job(db_session, status="timeout", age=timedelta(days=3), now=now)

    stats = slot_stats(db_session, now - timedelta(hours=1), now)["slot-001"]

    assert stats.jobs == 0
    assert (stats.last_job_at, stats.last_job_status) == (old.created_at, "timeout")


def test_slot_stats_reports_the_latest_success_and_error(db_session: Session) -> None:
    now = utcnow()
    add_job(db_session, status="failed", failure_reason="provider_error", age=timedelta(hours=2))
    add_job(db_session, status="timeout", age=timedelta(hours=1), now=now)
    latest = add_job(db_session, age=timedelta(minutes=30), duration_ms=800, now=now)
    add_job(db_session, age=timedelta(hours=4), now=now)
    add_job(db_session, slot_id="slot-002", status="failed", failure_reason="provider_no_image")

    stats = slot_stats(db_session, now - DAY, now)

    assert stats["slot-001"].last_success_at == latest.finished_at
    assert stats["slot-001"].last_error_reason == "timeout"
    assert stats["slot-002"].last_error_reason == "provider_no_image"
    assert stats["slot-002"].success_rate == 0.0
