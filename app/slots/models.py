from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

SLOT_COUNT = 15
OUTPUT_FORMATS = ("same", "jpeg", "png", "webp")


def slot_ids() -> list[str]:
    return [f"slot-{n:03d}" for n in range(1, SLOT_COUNT + 1)]


class Slot(Base):
    __tablename__ = "slots"

    slot_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    is_active: Mapped[bool] = mapped_column(default=True)
    provider: Mapped[str] = mapped_column(sa.String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_format: Mapped[str] = mapped_column(sa.String(8), default="same")
    output_quality: Mapped[int] = mapped_column(default=92)
    max_side: Mapped[int] = mapped_column(default=2048)
    size_limit_mb: Mapped[int] = mapped_column(default=20)
    ingest_password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    public_gallery: Mapped[bool] = mapped_column(default=False)
    telegram_enabled: Mapped[bool] = mapped_column(default=False)
    telegram_label: Mapped[str | None] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))

    templates: Mapped[list[TemplateMedia]] = relationship(
        back_populates="slot", order_by="TemplateMedia.position", lazy="selectin"
    )


class TemplateMedia(Base):
    __tablename__ = "template_media"

    media_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(sa.ForeignKey("slots.slot_id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="style")
    path: Mapped[str] = mapped_column(sa.String(255))
    mime: Mapped[str] = mapped_column(sa.String(32))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    slot: Mapped[Slot] = relationship(back_populates="templates")
