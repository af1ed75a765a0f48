"""Changing a slot: every path that saves provider settings goes through here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.providers.schemas import validate_settings
from app.slots.models import Slot


class SlotNotFound(LookupError):
    pass


def set_provider_settings(
    session: Session, slot_id: str, provider: str, settings: dict[str, Any], updated_by: str
) -> Slot:
    """Validate ``settings`` for ``provider`` and store them in place of the old ones.

    The old settings are replaced, not merged, so switching provider leaves no stale keys.
    Raises ``SettingsInvalid`` (with per-field errors) and changes nothing when they are invalid.
    """
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound(slot_id)
    validated = validate_settings(provider, settings)
    slot.provider = provider
    slot.settings = validated
    slot.version += 1
    slot.updated_at = utcnow()
    slot.updated_by = updated_by
    session.commit()
    return slot
