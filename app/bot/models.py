from __future__ import annotations

from datetime import date, datetime

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
    """A person who wrote to the bot, with what the bot remembers about them between updates."""

    __tablename__ = "telegram_users"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(sa.BigInteger)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    selected_slot_id: Mapped[str | None] = mapped_column(sa.ForeignKey("slots.slot_id"))
    busy_until: Mapped[datetime | None]
    """Set while one of the user's photos is processed (one at a time); it lapses by itself if
    the process handling it dies."""
    last_job_id: Mapped[str | None] = mapped_column(sa.String(32))
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


class TelegramDailyCount(Base):
    """Jobs a user started on one UTC day, for the daily limit."""

    __tablename__ = "telegram_daily_counts"
    __table_args__ = (sa.Index("ix_telegram_daily_counts_day", "day"),)

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(primary_key=True)
    jobs: Mapped[int] = mapped_column(default=0)
