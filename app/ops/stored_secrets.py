"""What the database holds under keys derived from SECRET_KEY, and the rotation to a new key.

Provider API keys are encrypted and booth passwords are keyed hashes, both under keys derived from
SECRET_KEY. With a new SECRET_KEY and the old one in SECRET_KEY_FALLBACKS everything still reads;
``rotate`` re-encrypts the provider keys, while a booth hash (the password itself is not stored)
moves to the new key at its booth's next accepted photo or when an admin sets the password again.
A secret no configured key reads is reported by name (never by value) at start, on /healthz and
by ``photochanger secrets status``.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.passwords import BoothHashKey, booth_hash_key
from app.config import Config
from app.providers.keys import (
    KeyRotation,
    StoredKey,
    rotate_api_keys,
    stored_key_state,
    unreadable_key_providers,
)
from app.settings.service import load_settings
from app.slots.models import Slot

log = structlog.get_logger(__name__)

INGEST_LABEL = "ingest password"


@dataclass(frozen=True)
class StoredSecrets:
    provider_keys: dict[str, StoredKey]
    """Per provider with a stored key: which configured key decrypts it."""
    booth_passwords: dict[str, BoothHashKey]
    """``ingest password`` (the global one) and ``ingest password slot-00N``: which key wrote it."""
    unreadable: list[str]
    """Names of the stored secrets no configured key reads and nothing replaces."""

    @property
    def needs_fallback(self) -> list[str]:
        """Names of the secrets that still need a key of SECRET_KEY_FALLBACKS (or may, for a
        booth hash from before key ids)."""
        return [
            *(
                f"provider key {p}"
                for p, s in self.provider_keys.items()
                if s is StoredKey.FALLBACK
            ),
            *(
                name
                for name, state in self.booth_passwords.items()
                if state in (BoothHashKey.FALLBACK, BoothHashKey.UNNAMED)
            ),
        ]


def inspect_secrets(session: Session, config: Config) -> StoredSecrets:
    runtime = load_settings(session, config)
    hashes = {INGEST_LABEL: runtime.ingest_password_hash}
    for slot_id, stored in session.execute(
        select(Slot.slot_id, Slot.ingest_password_hash).order_by(Slot.slot_id)
    ):
        hashes[f"{INGEST_LABEL} {slot_id}"] = stored
    booth = {
        name: booth_hash_key(config.booth_password_keys, stored)
        for name, stored in hashes.items()
        if stored
    }
    return StoredSecrets(
        provider_keys={
            provider: stored_key_state(config, stored)
            for provider, stored in sorted(runtime.provider_keys.items())
        },
        booth_passwords=booth,
        unreadable=[
            *(f"provider key {p}" for p in unreadable_key_providers(config, runtime)),
            *(name for name, state in booth.items() if state is BoothHashKey.UNKNOWN),
        ],
    )


def unreadable_secrets(session: Session, config: Config) -> list[str]:
    return inspect_secrets(session, config).unreadable


def log_unreadable_secrets(session: Session, config: Config) -> list[str]:
    """One ERROR event naming the unreadable secrets, if there are any."""
    unreadable = unreadable_secrets(session, config)
    if unreadable:
        log.error(
            "secrets.unreadable",
            secrets=unreadable,
            hint="SECRET_KEY is not the key these were stored under: put the previous key in "
            "SECRET_KEY_FALLBACKS, or enter each provider key and booth password again",
        )
    return unreadable


def rotate(session: Session, config: Config) -> tuple[KeyRotation, StoredSecrets]:
    """Re-encrypt the provider keys under SECRET_KEY; the state of every secret after it."""
    rotation = rotate_api_keys(session, config, "photochanger secrets rotate")
    after = inspect_secrets(session, config)
    log.info(
        "secrets.rotated",
        rotated=rotation.rotated,
        still_needs_fallback=after.needs_fallback,
        unreadable=after.unreadable,
    )
    return rotation, after
