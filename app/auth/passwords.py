"""Password hashing for admins and ingest passwords.

Hashes are scrypt (werkzeug), whose check costs tens of milliseconds on purpose. The booth hot path
cannot pay that on every photo, so each process remembers recent outcomes, keyed by the stored
hash and an HMAC of the candidate under a per-process random key — never the candidate itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from werkzeug.security import check_password_hash, generate_password_hash

_CACHE_KEY = secrets.token_bytes(32)
_CACHE_LIMIT = 1024
_outcomes: dict[tuple[str, bytes], bool] = {}
_pair_locks: dict[tuple[str, bytes], threading.Lock] = {}
_lock = threading.Lock()


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def verify_password(stored_hash: str, candidate: str) -> bool:
    """Check once per process and candidate; concurrent checks of the same pair wait for the first
    instead of each paying scrypt's CPU and memory (a burst of booths after a restart)."""
    key = (stored_hash, hmac.new(_CACHE_KEY, candidate.encode(), hashlib.sha256).digest())
    with _lock:
        pair_lock = _pair_locks.setdefault(key, threading.Lock())
    with pair_lock:
        outcome = _outcomes.get(key)
        if outcome is None:
            outcome = check_password_hash(stored_hash, candidate)
            with _lock:
                if len(_outcomes) >= _CACHE_LIMIT:
                    _outcomes.clear()
                    _pair_locks.clear()
                _outcomes[key] = outcome
    return outcome


def generate_password(length: int = 12) -> str:
    """A password an operator can type into a booth: lowercase and digits, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
