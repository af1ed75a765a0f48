"""Saving a slot from a test the way an admin's save does (validated, version bumped)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.providers.registry import validate_settings
from app.slots.models import Slot
from app.slots.service import update_slot

NO_UPLOAD_CAP = 200
"""These saves change no size limit, so the server's upload cap does not matter."""


def set_provider_settings(
    session: Session, slot_id: str, provider: str, settings: dict[str, Any], updated_by: str
) -> Slot:
    """Replace the slot's provider and settings as one save by ``updated_by``.

    Raises ``SettingsInvalid`` for settings the provider refuses, ``SlotNotFound`` for an unknown
    slot; either way nothing changes.
    """
    validated = validate_settings(provider, settings)
    change = {"provider": provider, "settings": validated}
    return update_slot(session, slot_id, change, updated_by, max_upload_mb=NO_UPLOAD_CAP)
