"""Provider API keys: the environment wins; keys entered by an admin are stored encrypted.

The encryption key is derived from SECRET_KEY, so a database dump alone reveals no provider key.
Keys are never shown back: only whether one is configured, when, and its last four characters.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from app.config import Config
from app.db import utcnow
from app.providers.registry import PROVIDERS
from app.settings.service import RuntimeSettings, load_settings, save_settings


def _fernet(config: Config) -> Fernet:
    secret = (config.secret_key or "").encode()
    digest = hashlib.sha256(b"photochanger/provider-keys/" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


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
            }
        else:
            status[provider] = {"configured": False}
    return status
