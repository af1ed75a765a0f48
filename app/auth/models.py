from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Admin(Base):
    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    """Carried by every session cookie and API token of this admin; bumping it (log out
    everywhere, a password change) ends all of them."""


class AdminSession(Base):
    """One browser login of an admin; its cookie names it, and logout deletes it."""

    __tablename__ = "admin_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    admin_id: Mapped[int] = mapped_column(
        sa.ForeignKey("admins.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_username", "username", "created_at"),
        sa.Index("ix_login_attempts_ip", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    ip: Mapped[str] = mapped_column(sa.String(64))
    success: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
