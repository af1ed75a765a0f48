from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class TelegramUpdate(Base):
    """An update id already handled, so a redelivered update is processed at most once."""

    __tablename__ = "telegram_updates"
    __table_args__ = (sa.Index("ix_telegram_updates_received", "received_at"),)

    update_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramUser(Base):
    __tablename__ = "telegram_users"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    selected_slot_id: Mapped[str | None] = mapped_column(sa.ForeignKey("slots.slot_id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramPendingPhoto(Base):
    """A photo received without a chosen style, kept until the user presses a style button."""

    __tablename__ = "telegram_pending_photos"
    __table_args__ = (sa.Index("ix_telegram_pending_user", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.BigInteger)
    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    file_id: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
