"""Login throttling, counted in PostgreSQL so every process and host sees the same failures.

After ``FAILURE_LIMIT`` failed logins for a username, or from an IP, within ``WINDOW``, logins for
that username or IP are refused for ``LOCKOUT``. Refused attempts are not counted, so the lock ends
on time; a successful login for a username starts its count afresh.
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


def record_attempt(session: Session, username: str, ip: str, success: bool, now: datetime) -> None:
    session.add(LoginAttempt(username=username[:64], ip=ip[:64], success=success, created_at=now))
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
