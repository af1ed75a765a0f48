"""Changing a slot: every path that saves a slot or its provider settings goes through here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password
from app.config import Config
from app.db import utcnow
from app.providers.schemas import SettingsInvalid, validate_settings
from app.slots.models import Slot, slot_ids
from app.slots.schemas import SlotUpdate, localized_errors
from app.stats.service import SlotStats


class SlotNotFound(LookupError):
    pass


class VersionConflict(Exception):
    """The slot was saved by someone else since the caller read ``version``."""

    def __init__(self, updated_by: str | None, updated_at: datetime, current_version: int) -> None:
        super().__init__(f"slot changed by {updated_by} at {updated_at.isoformat()}")
        self.updated_by = updated_by
        self.updated_at = updated_at
        self.current_version = current_version


class SlotInvalid(ValueError):
    """Field errors of a slot change, as ``{dotted field: message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def find_slot(session: Session, slot_id: str) -> Slot:
    """The slot, looked up only for the 15 known ids (never a NUL or an over-long key)."""
    slot = session.get(Slot, slot_id) if slot_id in slot_ids() else None
    if slot is None:
        raise SlotNotFound(slot_id)
    return slot


def lock_slot(session: Session, slot_id: str) -> Slot:
    """The slot's row, freshly read and locked until the transaction ends."""
    statement = (
        select(Slot)
        .where(Slot.slot_id == slot_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    slot = session.scalars(statement).one_or_none()
    if slot is None:
        raise SlotNotFound(slot_id)
    return slot


def mark_saved(slot: Slot, updated_by: str) -> None:
    slot.version += 1
    slot.updated_at = utcnow()
    slot.updated_by = updated_by


def set_provider_settings(
    session: Session, slot_id: str, provider: str, settings: dict[str, Any], updated_by: str
) -> Slot:
    """Validate ``settings`` for ``provider`` and store them in place of the old ones.

    The old settings are replaced, not merged, so switching provider leaves no stale keys.
    Raises ``SettingsInvalid`` (with per-field errors) and changes nothing when they are invalid.
    """
    slot = find_slot(session, slot_id)
    validated = validate_settings(provider, settings)
    slot.provider = provider
    slot.settings = validated
    mark_saved(slot, updated_by)
    session.commit()
    return slot


def check_settings(
    provider: str, settings: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``validate_settings`` with its errors keyed ``settings.<field>`` in the admin's language."""
    if contains_nul(settings):
        return {}, {"settings": _("Text must not contain NUL characters.")}
    try:
        return validate_settings(provider, settings), {}
    except SettingsInvalid as invalid:
        if isinstance(invalid.__cause__, ValidationError):
            return {}, localized_errors(invalid.__cause__, prefix="settings")
        return {}, {
            key if key in ("settings", "provider") else f"settings.{key}": message
            for key, message in invalid.errors.items()
        }


def contains_nul(value: Any) -> bool:
    """PostgreSQL cannot store NUL in text or JSONB strings."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def update_slot(
    session: Session, config: Config, slot_id: str, changes: SlotUpdate, updated_by: str
) -> Slot:
    """Apply ``changes`` as one save: all of them or, on any error, none.

    The row is locked while the version is compared, so two saves of the same version cannot both
    win. Raises ``SlotNotFound``, ``VersionConflict`` or ``SlotInvalid``.
    """
    try:
        slot = lock_slot(session, slot_id)
        if changes.version is not None and changes.version != slot.version:
            raise VersionConflict(slot.updated_by, slot.updated_at, slot.version)
        apply_changes(slot, config, changes)
    except BaseException:
        session.rollback()
        raise
    mark_saved(slot, updated_by)
    session.commit()
    return slot


def apply_changes(slot: Slot, config: Config, changes: SlotUpdate) -> None:
    errors: dict[str, str] = {}
    provider = changes.provider or slot.provider
    settings = slot.settings
    if changes.settings is not None:
        settings, errors = check_settings(provider, changes.settings)
    elif provider != slot.provider:
        errors["settings"] = _("Switching the provider needs complete settings for the new one.")
    if changes.size_limit_mb is not None and changes.size_limit_mb > config.max_upload_mb:
        errors["size_limit_mb"] = _("Must be at most %(num)s.", num=config.max_upload_mb)
    if errors:
        raise SlotInvalid(errors)

    slot.provider, slot.settings = provider, settings
    if changes.display_name is not None:
        slot.display_name = changes.display_name
    if changes.is_active is not None:
        slot.is_active = changes.is_active
    if changes.output is not None:
        output = changes.output
        slot.output_format = output.format or slot.output_format
        slot.output_quality = output.quality or slot.output_quality
        slot.max_side = output.max_side or slot.max_side
    if changes.size_limit_mb is not None:
        slot.size_limit_mb = changes.size_limit_mb
    if "ingest_password" in changes.model_fields_set:
        password = changes.ingest_password
        slot.ingest_password_hash = hash_password(password) if password else None
    if changes.public_gallery is not None:
        slot.public_gallery = changes.public_gallery
    if changes.telegram is not None:
        if changes.telegram.enabled is not None:
            slot.telegram_enabled = changes.telegram.enabled
        if "label" in changes.telegram.model_fields_set:
            slot.telegram_label = changes.telegram.label or None


FAILED_STATUSES = frozenset({"failed", "timeout", "interrupted"})
FAILING_MIN_JOBS = 3
FAILING_BELOW_RATE = 0.5


def slot_status(slot: Slot, stats: SlotStats | None, key_missing: bool, since: datetime) -> str:
    """The dashboard pill: ``off``, ``key_missing``, ``failing`` or ``ready``.

    ``failing``: the slot's latest job (if it ran since ``since``) did not succeed, or it had at
    least 3 jobs since ``since`` and fewer than half of them succeeded.
    """
    if not slot.is_active:
        return "off"
    if key_missing:
        return "key_missing"
    if stats is not None:
        last_failed = (
            stats.last_job_at is not None
            and stats.last_job_at >= since
            and stats.last_job_status in FAILED_STATUSES
        )
        mostly_failing = (
            stats.jobs >= FAILING_MIN_JOBS
            and stats.success_rate is not None
            and stats.success_rate < FAILING_BELOW_RATE
        )
        if last_failed or mostly_failing:
            return "failing"
    return "ready"
