from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class MediaObject(Base):
    """A file on the media volume that belongs to a job or a slot; the source of storage stats."""

    __tablename__ = "media_objects"
    __table_args__ = (
        sa.Index("ix_media_objects_job", "job_id"),
        sa.Index("ix_media_objects_live", "kind", postgresql_where=sa.text("deleted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"))
    slot_id: Mapped[str] = mapped_column(sa.ForeignKey("slots.slot_id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    path: Mapped[str] = mapped_column(sa.String(255))
    mime: Mapped[str] = mapped_column(sa.String(32))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
