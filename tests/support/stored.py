"""What the app keeps, read and arranged straight in the database and on disk."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Config
from app.ingest.models import Job
from app.settings.service import RuntimeSettings, load_settings
from app.slots.models import Slot


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def only_job(db_session: Session) -> Job:
    jobs = db_session.scalars(select(Job)).all()
    assert len(jobs) == 1
    return jobs[0]


def fresh_slot(session: Session, slot_id: str = "slot-001") -> Slot:
    """The slot row as saved now, not as this session last saw it."""
    session.expire_all()
    slot = session.get(Slot, slot_id)
    assert slot is not None
    return slot


def use_provider(
    session: Session, provider: str, settings: Mapping[str, object], slot_id: str = "slot-001"
) -> None:
    """Point the slot at ``provider`` with ``settings`` as stored, without the form's checks."""
    slot = session.get(Slot, slot_id)
    assert slot is not None
    slot.provider = provider
    slot.settings = dict(settings)
    session.commit()


def reload_settings(session: Session, config: Config) -> RuntimeSettings:
    session.expire_all()
    return load_settings(session, config)


PROCESSING_FORM = {
    "sync_response_seconds": "30",
    "result_ttl_hours": "24",
    "dedupe_window_minutes": "5",
    "slot_concurrency": "4",
    "provider_concurrency": "20",
}
"""A valid change of every field of the Settings page's processing form."""
