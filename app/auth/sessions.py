"""Admin sessions that can be ended: by logout, by "log out everywhere", by a password change and
by their absolute lifetime.

The session cookie is signed but kept by the browser, so it cannot be taken back; instead it names
a row of ``admin_sessions`` (a random id) and carries the admin's ``session_generation``. Every
request checks both, so logout (the row is deleted) ends that one cookie at once, and bumping the
generation ends every cookie and API token of the admin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import Admin, AdminSession

SESSION_LIFETIME = timedelta(hours=12)
"""From login, however active the session is."""


@dataclass(frozen=True)
class SessionTicket:
    """What the session cookie keeps about one login."""

    session_id: str
    generation: int
    login_at: int
    """Seconds since the epoch."""


def open_session(session: Session, admin: Admin, now: datetime) -> SessionTicket:
    """Record a new login of ``admin`` (and forget its sessions that outlived their lifetime)."""
    session.execute(
        sa.delete(AdminSession).where(
            AdminSession.admin_id == admin.id, AdminSession.created_at <= now - SESSION_LIFETIME
        )
    )
    ticket = SessionTicket(
        session_id=secrets.token_urlsafe(32),
        generation=admin.session_generation,
        login_at=int(now.timestamp()),
    )
    session.add(AdminSession(id=ticket.session_id, admin_id=admin.id, created_at=now))
    session.commit()
    return ticket


def session_is_open(session: Session, username: str, ticket: SessionTicket, now: datetime) -> bool:
    if now.timestamp() - ticket.login_at >= SESSION_LIFETIME.total_seconds():
        return False
    found = session.scalar(
        sa.select(AdminSession.id)
        .join(Admin, Admin.id == AdminSession.admin_id)
        .where(
            AdminSession.id == ticket.session_id,
            AdminSession.created_at > now - SESSION_LIFETIME,
            Admin.username == username,
            Admin.session_generation == ticket.generation,
        )
    )
    return found is not None


def close_session(session: Session, session_id: str) -> None:
    session.execute(sa.delete(AdminSession).where(AdminSession.id == session_id))
    session.commit()


def end_all_sessions(session: Session, admin: Admin) -> None:
    """End every session and API token of ``admin``; the caller commits."""
    admin.session_generation += 1
    session.execute(sa.delete(AdminSession).where(AdminSession.admin_id == admin.id))


def generation_is_current(session: Session, username: str, generation: int) -> bool:
    """Whether an API token carrying ``generation`` still stands for ``username``."""
    current = session.scalar(sa.select(Admin.session_generation).where(Admin.username == username))
    return current is not None and current == generation
