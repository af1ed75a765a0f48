from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class RateCounter(Base):
    """A fixed-window request counter (per client IP, per Telegram user, …) shared by all hosts."""

    __tablename__ = "rate_counters"
    __table_args__ = (sa.Index("ix_rate_counters_window", "window_start"),)

    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
