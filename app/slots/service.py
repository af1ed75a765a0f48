"""Changing a slot: the one validation of a change and the one save every slot change goes through.

The slot form, ``PUT /api/slots/<id>``, the dashboard's switch and a test run's overrides all
validate with ``validate_slot_change``; every save goes through ``update_slot``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import context
from app.auth.passwords import hash_booth_password
from app.db import utcnow
from app.providers.registry import PROVIDERS, validate_settings
from app.providers.schemas import SettingsInvalid
from app.slots.errors import SlotInvalid, SlotNotFound, SlotVersion, VersionConflict
from app.slots.models import Slot, slot_ids
from app.slots.schemas import SlotUpdate
from app.validation import field_messages


def find_slot(session: Session, slot_id: str) -> Slot:
    """The slot, looked up only for the 15 known ids (never a NUL or an over-long key)."""
    slot = session.get(Slot, slot_id) if slot_id in slot_ids() else None
    if slot is None:
        raise SlotNotFound(slot_id)
    return slot


def slot_or_404(session: Session, slot_id: str) -> Slot:
    """``find_slot`` for the admin pages: an unknown id ends the request with a 404 page."""
    try:
        return find_slot(session, slot_id)
    except SlotNotFound:
        abort(404, description=_("There is no slot %(slot_id)s.", slot_id=slot_id))


def lock_slot(session: Session, slot_id: str) -> Slot:
    """The slot's row, freshly read and locked until the transaction ends."""
    if slot_id not in slot_ids():
        raise SlotNotFound(slot_id)
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


def validate_slot_change(
    slot: Slot,
    raw: Mapping[str, Any],
    *,
    max_upload_mb: int,
    lenient: bool = False,
    unreadable: Mapping[str, str] | None = None,
) -> SlotUpdate:
    """``raw`` as a ``SlotUpdate`` that can be applied to ``slot``, with its settings normalized
    for the provider the slot will have.

    JSON is validated strictly (``0`` is not ``false``); a form's values are all text, so the form
    passes ``lenient``. ``unreadable``: fields the caller could not even parse (a form's JSON),
    reported together with the rest. Raises ``SlotInvalid`` naming every invalid field.
    """
    errors: dict[str, str] = {}
    change = None
    try:
        change = SlotUpdate.model_validate(
            raw, strict=not lenient, context={"max_upload_mb": max_upload_mb}
        )
    except ValidationError as invalid:
        errors = field_messages(invalid)
    provider = raw.get("provider") or slot.provider
    known = isinstance(provider, str) and provider in PROVIDERS
    settings = raw.get("settings")
    normalized = None
    if known and isinstance(settings, dict):
        normalized, settings_errors = check_settings(provider, settings)
        errors = {**settings_errors, **errors}
    elif known and settings is None and provider != slot.provider:
        errors["settings"] = _("Switching the provider needs complete settings for the new one.")
    errors = {**errors, **(unreadable or {})}
    if errors or change is None:
        raise SlotInvalid(errors)
    if normalized is None:
        return change
    return change.model_copy(update={"settings": normalized})


def check_settings(
    provider: str, settings: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """``validate_settings`` with its errors keyed ``settings.<field>`` in the admin's language."""
    if contains_nul(settings):
        return None, {"settings": _("Text must not contain NUL characters.")}
    try:
        return validate_settings(provider, settings), {}
    except SettingsInvalid as invalid:
        if isinstance(invalid.__cause__, ValidationError):
            return None, field_messages(invalid.__cause__, prefix="settings")
        return None, {
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


def apply_slot_change(slot: Slot, change: SlotUpdate) -> None:
    """Set the fields ``change`` names on ``slot`` (as ``validate_slot_change`` returned it)."""
    if change.provider is not None:
        slot.provider = change.provider
    if change.settings is not None:
        slot.settings = change.settings
    if change.display_name is not None:
        slot.display_name = change.display_name
    if change.is_active is not None:
        slot.is_active = change.is_active
    if change.output is not None:
        output = change.output
        slot.output_format = output.format or slot.output_format
        slot.output_quality = output.quality or slot.output_quality
        slot.max_side = output.max_side or slot.max_side
    if change.size_limit_mb is not None:
        slot.size_limit_mb = change.size_limit_mb
    if "ingest_password" in change.model_fields_set:
        password = change.ingest_password
        key = context.config().booth_password_key
        slot.ingest_password_hash = hash_booth_password(key, password) if password else None
    if change.public_gallery is not None:
        slot.public_gallery = change.public_gallery
    if change.telegram is not None:
        if change.telegram.enabled is not None:
            slot.telegram_enabled = change.telegram.enabled
        if "label" in change.telegram.model_fields_set:
            slot.telegram_label = change.telegram.label or None


def upgrade_slot_password_hash(
    session: Session, slot_id: str, old_hash: str, new_hash: str
) -> None:
    """Store the hash under the current key in place of the one that matched (legacy scrypt, a
    fallback key's, or one without key id), unless an admin changed the password meanwhile; not a
    save (version and author stay)."""
    session.execute(
        update(Slot)
        .where(Slot.slot_id == slot_id, Slot.ingest_password_hash == old_hash)
        .values(ingest_password_hash=new_hash)
    )
    session.commit()


def update_slot(
    session: Session,
    slot_id: str,
    raw: Mapping[str, Any],
    updated_by: str,
    *,
    max_upload_mb: int,
    lenient: bool = False,
    unreadable: Mapping[str, str] | None = None,
) -> Slot:
    """Validate ``raw`` (as ``validate_slot_change`` does) and save it as one change: all of it
    or, on any error, none.

    The row is locked while the version is compared and the change validated, so two saves of the
    same version cannot both win, and settings are checked against the provider the slot has
    now. A version other than the slot's is a conflict even when fields are invalid: they would
    be judged against someone else's save. Raises ``SlotNotFound``, ``VersionConflict`` or
    ``SlotInvalid``.
    """
    try:
        slot = lock_slot(session, slot_id)
        sent = sent_version(raw)
        if sent is not None and sent != slot.version:
            current = SlotVersion(
                updated_by=slot.updated_by, updated_at=slot.updated_at, current_version=slot.version
            )
            raise VersionConflict(current)
        change = validate_slot_change(
            slot, raw, max_upload_mb=max_upload_mb, lenient=lenient, unreadable=unreadable
        )
        apply_slot_change(slot, change)
    except BaseException:
        session.rollback()
        raise
    mark_saved(slot, updated_by)
    session.commit()
    return slot


def sent_version(raw: Mapping[str, Any]) -> int | None:
    """The version a change was based on, when it is readable (else validation reports it)."""
    version = raw.get("version")
    if isinstance(version, str) and version.isdecimal():
        return int(version)
    return version if type(version) is int else None
