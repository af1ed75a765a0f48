"""Login throttling, counted in PostgreSQL so every process and host sees the same failures.

After ``FAILURE_LIMIT`` failed logins for a username, or from an IP, within ``WINDOW``, logins for
that username or IP are refused for ``LOCKOUT``. Refused attempts are not counted, so the lock ends
on time; a successful login for a username starts its count afresh.

An attempt is reserved (recorded as a failure) before its password is checked, under advisory
locks on the username and the IP, so parallel attempts can never check more passwords than the
limit allows; a correct password then turns its reserved row into a success.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import LoginAttempt

FAILURE_LIMIT = 10
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


def locked_until(session: Session, username: str, ip: str, now: datetime) -> datetime | None:
    """When logins for this username or IP open again, or None when they are open now."""
    ends = [
        _lock_end(session, LoginAttempt.username == username, now, reset_by_success=True),
        _lock_end(session, LoginAttempt.ip == ip, now, reset_by_success=False),
    ]
    active = [end for end in ends if end is not None and end > now]
    return max(active) if active else None


def reserve_attempt(session: Session, username: str, ip: str, now: datetime) -> LoginAttempt | None:
    """Record an attempt as failed before its password is checked, or return None (recording
    nothing) while the username or IP is locked."""
    for key in (f"login:user:{username[:64]}", f"login:ip:{ip[:64]}"):
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )
    if locked_until(session, username, ip, now) is not None:
        session.rollback()
        return None
    attempt = LoginAttempt(username=username[:64], ip=ip[:64], success=False, created_at=now)
    session.add(attempt)
    session.commit()
    return attempt


def mark_succeeded(session: Session, attempt: LoginAttempt) -> None:
    attempt.success = True
    session.commit()


def _lock_end(
    session: Session, key: sa.ColumnElement[bool], now: datetime, reset_by_success: bool
) -> datetime | None:
    since = now - WINDOW - LOCKOUT
    if reset_by_success:
        last_success = session.scalar(
            sa.select(sa.func.max(LoginAttempt.created_at)).where(key, LoginAttempt.success)
        )
        if last_success is not None:
            since = max(since, last_success)
    failures = session.scalars(
        sa.select(LoginAttempt.created_at)
        .where(key, ~LoginAttempt.success, LoginAttempt.created_at > since)
        .order_by(LoginAttempt.created_at.desc())
        .limit(FAILURE_LIMIT)
    ).all()
    if len(failures) < FAILURE_LIMIT:
        return None
    newest, tenth = failures[0], failures[-1]
    if newest - tenth > WINDOW:
        return None
    return newest + LOCKOUT
