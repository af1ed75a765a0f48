"""Password hashing: scrypt for admins, a keyed hash for booth (ingest) passwords.

Admin passwords are chosen by people and checked rarely, so they get scrypt (werkzeug), whose
check costs tens of milliseconds and megabytes on purpose. A booth sends its password with every
photo and an attacker can send thousands, so booth passwords are stored as an HMAC-SHA256 under a
key derived from SECRET_KEY: a check costs microseconds, and a leaked database alone reveals
nothing. Generated booth passwords are long random strings, so a fast hash leaves nothing to
guess. Booth hashes written as scrypt by earlier versions are still accepted and are replaced by
the keyed form on their first successful check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

BOOTH_HASH_PREFIX = "hmac-sha256$"
BOOTH_PASSWORD_LENGTH = 20
"""About 99 bits from the 31-character alphabet."""
BOOTH_CHECKS_AT_ONCE = 4
"""Per process: a burst of guesses against a legacy scrypt hash cannot exhaust memory."""


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def hash_booth_password(key: bytes, password: str) -> str:
    return BOOTH_HASH_PREFIX + hmac.new(key, password.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BoothCheck:
    valid: bool
    upgraded_hash: str | None = None
    """The keyed hash to store in place of a legacy scrypt hash that matched."""


def check_booth_password(key: bytes, stored_hash: str, candidate: str) -> BoothCheck:
    """Compare in constant time; a legacy scrypt hash is checked as before."""
    if stored_hash.startswith(BOOTH_HASH_PREFIX):
        return BoothCheck(hmac.compare_digest(stored_hash, hash_booth_password(key, candidate)))
    if not check_password_hash(stored_hash, candidate):
        return BoothCheck(False)
    return BoothCheck(True, upgraded_hash=hash_booth_password(key, candidate))


def generate_password(length: int = BOOTH_PASSWORD_LENGTH) -> str:
    """A password an operator can type into a booth: lowercase and digits, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
