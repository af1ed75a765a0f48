"""Admin accounts: creation from the CLI or first start, and the login check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from app.auth import throttle
from app.auth.models import Admin
from app.auth.passwords import generate_password, hash_password
from app.auth.sessions import end_all_sessions

log = structlog.get_logger(__name__)

_DUMMY_HASH = hash_password("no such admin")
"""Checked for unknown usernames so they take as long as wrong passwords."""


class AdminExists(ValueError):
    pass


class AdminNotFound(LookupError):
    pass


def create_admin(session: Session, username: str, password: str) -> Admin:
    if session.scalar(select(Admin).where(Admin.username == username)) is not None:
        raise AdminExists(username)
    admin = Admin(username=username, password_hash=hash_password(password))
    session.add(admin)
    session.commit()
    return admin


def find_admin(session: Session, username: str) -> Admin:
    admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        raise AdminNotFound(username)
    return admin


def set_admin_password(session: Session, username: str, password: str) -> None:
    """Change the password and end every session and API token of the admin."""
    admin = find_admin(session, username)
    admin.password_hash = hash_password(password)
    end_all_sessions(session, admin)
    session.commit()


def log_out_everywhere(session: Session, username: str) -> None:
    end_all_sessions(session, find_admin(session, username))
    session.commit()


def ensure_first_admin(session: Session, username: str, password: str | None) -> str | None:
    """Create the first admin when there is none; returns the password if it was generated."""
    if session.scalar(select(func.count()).select_from(Admin)):
        return None
    generated = None if password else generate_password(16)
    create_admin(session, username, password or generated or "")
    return generated


@dataclass(frozen=True)
class LoginOutcome:
    """``admin`` when the login succeeded; ``locked_until`` when it was refused unchecked."""

    admin: Admin | None
    locked_until: datetime | None = None

    @property
    def username(self) -> str | None:
        return self.admin.username if self.admin else None


def authenticate(
    session: Session, username: str, password: str, ip: str, now: datetime
) -> LoginOutcome:
    """Check an admin login, counting failures per username and per IP (see ``throttle``)."""
    attempt = throttle.reserve_attempt(session, username, ip, now)
    if attempt is None:
        log.warning("auth.login.failure", username=username, ip=ip, reason="locked")
        return LoginOutcome(
            admin=None, locked_until=throttle.locked_until(session, username, ip, now)
        )
    admin = session.scalar(select(Admin).where(Admin.username == username))
    stored_hash = admin.password_hash if admin else _DUMMY_HASH
    valid = check_password_hash(stored_hash, password) and admin is not None
    if not valid or admin is None:
        log.warning("auth.login.failure", username=username, ip=ip, reason="bad_credentials")
        locked = throttle.locked_until(session, username, ip, now)
        session.commit()
        return LoginOutcome(admin=None, locked_until=locked)
    throttle.mark_succeeded(session, attempt)
    admin.last_login_at = now
    session.commit()
    log.info("auth.login.success", username=username, ip=ip)
    return LoginOutcome(admin=admin)
