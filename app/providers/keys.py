"""Provider API keys: the environment wins; keys entered by an admin are stored encrypted.

The encryption key is derived from SECRET_KEY, so a database dump alone reveals no provider key;
keys stored under an earlier SECRET_KEY still decrypt through SECRET_KEY_FALLBACKS until
``rotate_api_keys`` re-encrypts them. A stored key no configured key decrypts is "unreadable": its
provider fails with ``provider_key_unreadable``, never as if no key had been set.
Keys are never shown back: only whether one is configured, when, and its last four characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.orm import Session

from app.config import Config
from app.db import utcnow
from app.providers.registry import PROVIDERS
from app.settings.service import RuntimeSettings, load_settings, save_settings


class StoredKey(StrEnum):
    """Which of the configured keys decrypts a stored provider key."""

    CURRENT = "current"
    FALLBACK = "fallback"
    UNREADABLE = "unreadable"


def _fernet(config: Config) -> MultiFernet:
    """Encrypts under SECRET_KEY; decrypts under it or any key of SECRET_KEY_FALLBACKS."""
    return MultiFernet([Fernet(key) for key in config.stored_secret_keys])


def _key_field(provider: str) -> str | None:
    spec = PROVIDERS.get(provider)
    return spec.key_field if spec else None


def resolve_api_key(config: Config, runtime: RuntimeSettings, provider: str) -> str | None:
    field = _key_field(provider)
    if field is None:
        return None
    from_env: str | None = getattr(config, field)
    if from_env:
        return from_env
    stored = runtime.provider_keys.get(provider)
    if not stored:
        return None
    try:
        return _fernet(config).decrypt(stored["ciphertext"].encode()).decode()
    except (InvalidToken, KeyError):
        return None


def stored_key_state(config: Config, stored: dict[str, str]) -> StoredKey:
    """Which configured key decrypts the stored key entry ``stored``."""
    ciphertext = stored.get("ciphertext", "").encode()
    for index, key in enumerate(config.stored_secret_keys):
        try:
            Fernet(key).decrypt(ciphertext)
        except InvalidToken:
            continue
        return StoredKey.CURRENT if index == 0 else StoredKey.FALLBACK
    return StoredKey.UNREADABLE


def unreadable_key_providers(config: Config, runtime: RuntimeSettings) -> list[str]:
    """Providers whose stored key no configured key decrypts and no environment key replaces."""
    return sorted(
        provider
        for provider, stored in runtime.provider_keys.items()
        if stored_key_state(config, stored) is StoredKey.UNREADABLE
        and not getattr(config, _key_field(provider) or "", None)
    )


@dataclass(frozen=True)
class KeyRotation:
    rotated: list[str]
    """Re-encrypted under SECRET_KEY (they were readable only through a fallback)."""
    current: list[str]
    unreadable: list[str]
    """No configured key decrypts them: left as they are."""


def rotate_api_keys(session: Session, config: Config, updated_by: str) -> KeyRotation:
    """Re-encrypt under SECRET_KEY every stored key that only a fallback key decrypts."""
    keys = dict(load_settings(session, config).provider_keys)
    states = {provider: stored_key_state(config, stored) for provider, stored in keys.items()}
    rotated = sorted(p for p, state in states.items() if state is StoredKey.FALLBACK)
    fernet = _fernet(config)
    for provider in rotated:
        ciphertext = fernet.rotate(keys[provider]["ciphertext"].encode()).decode()
        keys[provider] = {**keys[provider], "ciphertext": ciphertext}
    if rotated:
        save_settings(session, config, {"provider_keys": keys}, updated_by)
    return KeyRotation(
        rotated=rotated,
        current=sorted(p for p, state in states.items() if state is StoredKey.CURRENT),
        unreadable=sorted(p for p, state in states.items() if state is StoredKey.UNREADABLE),
    )


def store_api_key(
    session: Session, config: Config, provider: str, api_key: str | None, updated_by: str
) -> None:
    """Set (or with ``None`` clear) the stored key of ``provider``."""
    if _key_field(provider) is None:
        raise ValueError(f"{provider} takes no API key")
    keys = dict(load_settings(session, config).provider_keys)
    if api_key:
        keys[provider] = {
            "ciphertext": _fernet(config).encrypt(api_key.encode()).decode(),
            "updated_at": utcnow().isoformat(),
            "updated_by": updated_by,
            "last4": api_key[-4:],
        }
    else:
        keys.pop(provider, None)
    save_settings(session, config, {"provider_keys": keys}, updated_by)


def key_status(config: Config, runtime: RuntimeSettings) -> dict[str, dict[str, Any]]:
    """What an admin may see about each key: never the key itself."""
    status: dict[str, dict[str, Any]] = {}
    for provider, spec in PROVIDERS.items():
        if spec.key_field is None:
            continue
        from_env = getattr(config, spec.key_field)
        stored = runtime.provider_keys.get(provider)
        if from_env:
            status[provider] = {"configured": True, "source": "env", "last4": from_env[-4:]}
        elif stored:
            status[provider] = {
                "configured": True,
                "source": "settings",
                "updated_at": stored.get("updated_at"),
                "last4": stored.get("last4"),
                "unreadable": stored_key_state(config, stored) is StoredKey.UNREADABLE,
            }
        else:
            status[provider] = {"configured": False}
    return status
