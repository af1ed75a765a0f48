"""Password hashing: scrypt for admins, a keyed hash for booth (ingest) passwords.

Admin passwords are chosen by people and checked rarely, so they get scrypt (werkzeug), whose
check costs tens of milliseconds and megabytes on purpose. A booth sends its password with every
photo and an attacker can send thousands, so booth passwords are stored as an HMAC-SHA256 under a
key derived from SECRET_KEY: a check costs microseconds, and a leaked database alone reveals
nothing. Generated booth passwords are long random strings, so a fast hash leaves nothing to
guess. Each keyed hash names the key that wrote it (a short public id), so while SECRET_KEY is
rotated a hash written under a key of SECRET_KEY_FALLBACKS is still checked, and a store can tell
which key each hash needs. Booth hashes written as scrypt by earlier versions, under a fallback key,
or without a key id are still accepted and are replaced by the current keyed form on their first
successful check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from werkzeug.security import check_password_hash, generate_password_hash

BOOTH_HASH_PREFIX = "hmac-sha256$"
BOOTH_PASSWORD_LENGTH = 20
"""About 99 bits from the 31-character alphabet."""
BOOTH_CHECKS_AT_ONCE = 4
"""Per process: a burst of guesses against a legacy scrypt hash cannot exhaust memory."""


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def booth_key_id(key: bytes) -> str:
    """A short public name of a booth password key, stored with each hash it writes."""
    return hashlib.sha256(b"photochanger booth key id/" + key).hexdigest()[:8]


def _booth_digest(key: bytes, password: str) -> str:
    return hmac.new(key, password.encode(), hashlib.sha256).hexdigest()


def hash_booth_password(key: bytes, password: str) -> str:
    return f"{BOOTH_HASH_PREFIX}{booth_key_id(key)}${_booth_digest(key, password)}"


@dataclass(frozen=True)
class BoothCheck:
    valid: bool
    upgraded_hash: str | None = None
    """The hash under the current key to store in place of the one that matched: a legacy scrypt
    hash, one under a fallback key, or one without a key id."""


def check_booth_password(
    key: bytes, stored_hash: str, candidate: str, fallback_keys: Sequence[bytes] = ()
) -> BoothCheck:
    """Compare in constant time under ``key``, then under ``fallback_keys`` (earlier keys still
    accepted); a legacy scrypt hash is checked as before."""
    if stored_hash.startswith(BOOTH_HASH_PREFIX):
        key_id, _, digest = stored_hash.removeprefix(BOOTH_HASH_PREFIX).rpartition("$")
        for index, each in enumerate((key, *fallback_keys)):
            if key_id and key_id != booth_key_id(each):
                continue
            if hmac.compare_digest(digest, _booth_digest(each, candidate)):
                current = index == 0 and key_id != ""
                return BoothCheck(True, None if current else hash_booth_password(key, candidate))
        return BoothCheck(False)
    if not check_password_hash(stored_hash, candidate):
        return BoothCheck(False)
    return BoothCheck(True, upgraded_hash=hash_booth_password(key, candidate))


class BoothHashKey(StrEnum):
    """Which of the configured keys a stored booth hash needs."""

    CURRENT = "current"
    FALLBACK = "fallback"
    UNKNOWN = "unknown"
    """Written under a key that is neither SECRET_KEY nor a fallback: no password matches it."""
    UNNAMED = "unnamed"
    """A keyed hash from before key ids: its key shows at the next successful check."""
    NOT_KEYED = "not_keyed"
    """A legacy scrypt hash: it needs no key."""


def booth_hash_key(keys: Sequence[bytes], stored_hash: str) -> BoothHashKey:
    """Which of ``keys`` (the current one first) ``stored_hash`` was written under."""
    if not stored_hash.startswith(BOOTH_HASH_PREFIX):
        return BoothHashKey.NOT_KEYED
    key_id, _, _digest = stored_hash.removeprefix(BOOTH_HASH_PREFIX).rpartition("$")
    if not key_id:
        return BoothHashKey.UNNAMED
    ids = [booth_key_id(key) for key in keys]
    if key_id not in ids:
        return BoothHashKey.UNKNOWN
    return BoothHashKey.CURRENT if ids.index(key_id) == 0 else BoothHashKey.FALLBACK


def generate_password(length: int = BOOTH_PASSWORD_LENGTH) -> str:
    """A password an operator can type into a booth: lowercase and digits, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
