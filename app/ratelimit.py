"""Fixed-window request counters in PostgreSQL, so every process and host counts together.

Windows are aligned to the epoch (a 60 s window starts on the full minute). The cleanup prunes
windows older than 48 hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base


class RateCounter(Base):
    """A fixed-window request counter (per client IP, per Telegram user, …) shared by all hosts."""

    __tablename__ = "rate_counters"
    __table_args__ = (sa.Index("ix_rate_counters_window", "window_start"),)

    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int
    """This window's hits so far, this one included."""
    retry_after: int
    """Whole seconds until the window ends and the count starts again (at least 1)."""


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)


def hit(session: Session, key: str, limit: int, window_seconds: int, now: datetime) -> RateDecision:
    """Count one hit for ``key`` and commit; allowed while the window's count is ≤ ``limit``."""
    start = window_start(now, window_seconds)
    statement = (
        insert(RateCounter)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[RateCounter.key, RateCounter.window_start],
            set_={"count": RateCounter.count + 1},
        )
        .returning(RateCounter.count)
    )
    count = session.execute(statement).scalar_one()
    session.commit()
    window_end = start + timedelta(seconds=window_seconds)
    retry_after = max(1, math.ceil((window_end - now).total_seconds()))
    return RateDecision(allowed=count <= limit, count=count, retry_after=retry_after)


def current_count(session: Session, key: str, window_seconds: int, now: datetime) -> RateDecision:
    """This window's hits for ``key`` so far, without counting one; ``allowed`` is left for the
    caller to judge against its own limit (always True here)."""
    start = window_start(now, window_seconds)
    count = session.scalar(
        select(RateCounter.count).where(RateCounter.key == key, RateCounter.window_start == start)
    )
    window_end = start + timedelta(seconds=window_seconds)
    retry_after = max(1, math.ceil((window_end - now).total_seconds()))
    return RateDecision(allowed=True, count=count or 0, retry_after=retry_after)


def take_back(session: Session, key: str, window_seconds: int, now: datetime) -> None:
    """Undo one ``hit`` made at ``now``: a reserved attempt that turned out not to count (a right
    password) and commit."""
    session.execute(
        update(RateCounter)
        .where(
            RateCounter.key == key,
            RateCounter.window_start == window_start(now, window_seconds),
            RateCounter.count > 0,
        )
        .values(count=RateCounter.count - 1)
    )
    session.commit()
