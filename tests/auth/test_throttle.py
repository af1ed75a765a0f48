"""Login throttling: 10 failures per username or IP within 15 minutes lock logins for 15 minutes,
counted in PostgreSQL so every process sees them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import LoginAttempt
from app.auth.service import authenticate
from app.db import make_engine, utcnow
from tests.support.admin import ADMIN_PASSWORD, ADMIN_USERNAME, post_login
from tests.support.servers import serve_app


def fail(
    db_session: Session,
    times: int,
    now: datetime,
    username: str = ADMIN_USERNAME,
    ip: str = "10.0.0.1",
) -> None:
    for n in range(times):
        outcome = authenticate(db_session, username, "wrong", ip, now + timedelta(seconds=n))
        assert outcome.username is None


def test_ten_failures_lock_the_username_even_for_the_right_password(db_session, admin_account):
    now = utcnow()
    fail(db_session, 10, now)
    outcome = authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "10.0.0.2", now)
    assert outcome.username is None
    assert outcome.locked_until is not None
    assert outcome.locked_until - now > timedelta(minutes=14)


def test_nine_failures_do_not_lock(db_session, admin_account):
    now = utcnow()
    fail(db_session, 9, now)
    outcome = authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "10.0.0.1", now)
    assert outcome.username == ADMIN_USERNAME


def test_lock_ends_fifteen_minutes_after_the_last_failure(db_session, admin_account):
    now = utcnow() - timedelta(minutes=40)
    fail(db_session, 10, now)
    still_locked = now + timedelta(minutes=14)
    assert (
        authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "x", still_locked).username is None
    )
    reopened = now + timedelta(minutes=16)
    assert authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "x", reopened).username


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(db_session, admin_account):
    start = utcnow() - timedelta(minutes=30)
    for n in range(10):
        moment = start + timedelta(minutes=2 * n)
        authenticate(db_session, ADMIN_USERNAME, "wrong", "10.0.0.1", moment)
    later = start + timedelta(minutes=19)
    assert authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "y", later).username


def test_ten_failures_from_one_ip_lock_every_username_from_it(db_session, admin_account):
    now = utcnow()
    for n in range(10):
        authenticate(db_session, f"guess{n}", "wrong", "10.9.9.9", now)
    blocked = authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "10.9.9.9", now)
    elsewhere = authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "10.0.0.3", now)
    assert blocked.username is None
    assert elsewhere.username == ADMIN_USERNAME


def test_a_successful_login_starts_the_username_count_afresh(db_session, admin_account):
    now = utcnow()
    fail(db_session, 9, now, ip="10.0.0.1")
    assert authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "10.0.0.2", now).username
    fail(db_session, 1, now + timedelta(seconds=30), ip="10.0.0.4")
    later = now + timedelta(minutes=1)
    assert authenticate(db_session, ADMIN_USERNAME, ADMIN_PASSWORD, "10.0.0.5", later).username


def test_login_page_shows_the_throttle_message_after_ten_wrong_passwords(
    live_server, http, admin_account
):
    for _ in range(9):
        assert post_login(http, live_server.url, "wrong").status_code == 401
    tenth = post_login(http, live_server.url, "wrong")
    response = post_login(http, live_server.url, ADMIN_PASSWORD)
    assert tenth.status_code == response.status_code == 429
    assert "Слишком много неудачных попыток" in response.text


def test_failures_on_one_process_lock_logins_on_another(make_config, db_session, admin_account):
    """Two app instances (as two gunicorn workers or hosts) share the count through PostgreSQL."""
    with (
        serve_app(make_config()) as first,
        serve_app(make_config()) as second,
        requests.Session() as http,
    ):
        for _ in range(10):
            post_login(http, first, "wrong")
        response = post_login(http, second, ADMIN_PASSWORD)
    assert response.status_code == 429


def test_parallel_wrong_passwords_check_no_more_passwords_than_the_limit(
    database_url, db_session, admin_account
):
    """Each attempt is reserved before its password is checked, so 16 simultaneous attempts
    leave at most 10 recorded (and checked) attempts."""
    engine = make_engine(database_url, pool_size=16)
    now = utcnow()
    start = threading.Barrier(16)

    def attempt(n: int) -> bool:
        with Session(engine) as session:
            start.wait()
            return (
                authenticate(session, ADMIN_USERNAME, "wrong", f"10.1.0.{n}", now).username is None
            )

    try:
        with ThreadPoolExecutor(16) as pool:
            refused = list(pool.map(attempt, range(16)))
    finally:
        engine.dispose()
    checked = db_session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.username == ADMIN_USERNAME)
    )
    assert all(refused)
    assert checked == 10
