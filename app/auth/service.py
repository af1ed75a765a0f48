from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import Admin
from app.auth.passwords import generate_password, hash_password


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


def set_admin_password(session: Session, username: str, password: str) -> None:
    admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        raise AdminNotFound(username)
    admin.password_hash = hash_password(password)
    session.commit()


def ensure_first_admin(session: Session, username: str, password: str | None) -> str | None:
    """Create the first admin when there is none; returns the password if it was generated."""
    if session.scalar(select(func.count()).select_from(Admin)):
        return None
    generated = None if password else generate_password(16)
    create_admin(session, username, password or generated or "")
    return generated
