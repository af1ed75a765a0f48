"""Rollups kept by the triggers of migration 0002 (never written by the app): hourly job counts
and duration histograms, and the bytes of live media per slot and kind."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class JobStatsHourly(Base):
    __tablename__ = "job_stats_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    slot_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    provider_error: Mapped[bool] = mapped_column(primary_key=True)
    jobs: Mapped[int]
    last_finished_at: Mapped[datetime | None]


class JobDurationsHourly(Base):
    """Successful jobs by duration: ``bucket`` k holds ``[RATIO**k, RATIO**(k+1))`` ms."""

    __tablename__ = "job_durations_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    slot_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    bucket: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    jobs: Mapped[int]


class MediaUsage(Base):
    __tablename__ = "media_usage"

    slot_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    files: Mapped[int] = mapped_column(sa.BigInteger)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
