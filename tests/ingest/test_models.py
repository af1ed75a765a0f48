"""The job row's own rules: when its result is live, in Python and in PostgreSQL alike."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from app.db import utcnow
from app.ingest.models import FAILED_STATUSES, Job, JobSource, JobStatus
from tests.support.jobs import add_job

HOUR = timedelta(hours=1)


@pytest.fixture
def jobs_by_case(db_session):
    """One job per case a result can be in; the done ones point at a result folder."""
    now = utcnow()

    def result(expires_in: timedelta, **fields: Any) -> dict[str, Any]:
        return {
            "result_path": "results/slot-001/x",
            "result_mime": "image/jpeg",
            "result_expires_at": now + expires_in,
            **fields,
        }

    cases = {
        "live": add_job(db_session, **result(HOUR)),
        "expired": add_job(db_session, **result(-HOUR)),
        "cleaned": add_job(db_session, **result(HOUR, cleaned_at=now)),
        "expired_and_cleaned": add_job(db_session, **result(-HOUR, cleaned_at=now)),
        "failed": add_job(db_session, status=JobStatus.FAILED),
        "timeout": add_job(db_session, status=JobStatus.TIMEOUT),
        "pending": add_job(db_session, status=JobStatus.PENDING),
        "done_without_result": add_job(db_session),
    }
    return now, cases


def test_only_a_done_uncleaned_unexpired_result_is_live(jobs_by_case):
    now, cases = jobs_by_case
    live = {case for case, job in cases.items() if job.has_live_result(now)}
    assert live == {"live"}


def test_the_sql_condition_picks_the_same_live_results_as_the_method(db_session, jobs_by_case):
    now, cases = jobs_by_case
    in_sql = set(db_session.scalars(select(Job.id).where(Job.live_result(now))))
    in_python = {job.id for job in cases.values() if job.has_live_result(now)}
    assert in_sql == in_python == {cases["live"].id}


def test_a_live_result_stops_being_live_at_its_expiry(db_session, jobs_by_case):
    _now, cases = jobs_by_case
    expiry = cases["live"].result_expires_at
    assert not cases["live"].has_live_result(expiry)
    assert db_session.scalar(select(Job.id).where(Job.live_result(expiry))) is None


def test_expired_results_are_the_uncleaned_ones_past_expiry(db_session, jobs_by_case):
    now, cases = jobs_by_case
    expired = set(db_session.scalars(select(Job.id).where(Job.expired_result(now))))
    assert expired == {cases["expired"].id}


def test_an_expired_or_cleaned_result_was_still_produced(jobs_by_case):
    _now, cases = jobs_by_case
    produced = {case for case, job in cases.items() if job.produced_result}
    assert produced == {"live", "expired", "cleaned", "expired_and_cleaned"}


def test_the_check_constraints_allow_exactly_the_enum_values(db_session):
    constraints = dict(
        db_session.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname IN ('ck_jobs_status', 'ck_jobs_source')"
            )
        ).all()
    )
    for name, enum in (("ck_jobs_status", JobStatus), ("ck_jobs_source", JobSource)):
        assert set(re.findall(r"'(\w+)'", constraints[name])) == set(enum)


def test_failed_statuses_are_the_ones_that_end_without_a_result():
    assert set(FAILED_STATUSES) == set(JobStatus) - {JobStatus.PENDING, JobStatus.DONE}
