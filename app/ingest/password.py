"""The booth password check: cheap, constant-time, and throttled per client and slot.

Booth passwords are stored as a keyed HMAC (``app.auth.passwords``), so a check costs
microseconds and no memory, and a burst of guesses cannot exhaust a worker. Wrong passwords are
counted per client IP and slot in PostgreSQL (every process and host counts together); once
``FAILURE_LIMIT`` of them fall in a window, the client is refused with ``too_many_attempts``
until the window ends. Only failures count, so a busy booth that sends many photos at once is
never throttled; parallel guesses may pass the limit by the number in flight, which the cheap
check makes harmless. A legacy scrypt hash (stored before the keyed hash existed) is expensive,
so at most ``BOOTH_CHECKS_AT_ONCE`` of those run at once per process; the first right password
replaces it with the keyed hash. A hash under a key of SECRET_KEY_FALLBACKS is accepted too and
replaced the same way by one under SECRET_KEY.
"""

from __future__ import annotations

import threading

import structlog
from sqlalchemy.orm import Session

from app import ratelimit
from app.auth.passwords import BOOTH_HASH_PREFIX, check_booth_password
from app.config import Config
from app.db import utcnow
from app.ingest.errors import IngestError
from app.settings.service import RuntimeSettings, upgrade_ingest_password_hash
from app.slots.models import Slot
from app.slots.service import upgrade_slot_password_hash

log = structlog.get_logger(__name__)

FAILURE_LIMIT = 10
WINDOW_SECONDS = 15 * 60
LEGACY_CHECK_WAIT_SECONDS = 10.0
"""How long a legacy check waits for its turn. Every upload of a burst that arrives before the
first right password has replaced the legacy hash takes this path: 64 photos at once wait about
2 s on two cores; only a wait beyond this is refused."""


def recent_failures(
    session: Session, runtime: RuntimeSettings, slot: Slot, client_ip: str
) -> ratelimit.RateDecision | None:
    """The wrong passwords ``client_ip`` sent to ``slot`` in the current window, read within the
    caller's transaction (the one that loads the slot, before the upload is read: a request then
    checks a connection out once less); None when no password is set."""
    if (slot.ingest_password_hash or runtime.ingest_password_hash) is None:
        return None
    counter = failure_counter(slot, client_ip)
    return ratelimit.current_count(session, counter, WINDOW_SECONDS, utcnow())


def failure_counter(slot: Slot, client_ip: str) -> str:
    return f"ingest_password:{slot.slot_id}:{client_ip}"[:128]


def check_ingest_password(
    session: Session,
    config: Config,
    runtime: RuntimeSettings,
    slot: Slot,
    candidate: str | None,
    *,
    client_ip: str,
    failures: ratelimit.RateDecision | None,
    checks: threading.BoundedSemaphore,
) -> None:
    """Return when ``candidate`` opens ``slot`` (or no password is set); raise ``IngestError``
    (``invalid_password`` or ``too_many_attempts``) otherwise. ``failures`` is what
    ``recent_failures`` read for this request."""
    stored = slot.ingest_password_hash or runtime.ingest_password_hash
    if stored is None:
        return
    if failures is not None and failures.count >= FAILURE_LIMIT:
        log.warning("ingest.password_throttled", slot_id=slot.slot_id, ip=client_ip)
        raise IngestError("too_many_attempts", retry_after=failures.retry_after)
    keys = config.booth_password_keys
    if stored.startswith(BOOTH_HASH_PREFIX):
        outcome = check_booth_password(keys[0], stored, candidate or "", keys[1:])
    else:
        if not checks.acquire(timeout=LEGACY_CHECK_WAIT_SECONDS):
            raise IngestError(
                "too_many_attempts", "Too many password checks at once.", retry_after=1
            )
        try:
            outcome = check_booth_password(keys[0], stored, candidate or "", keys[1:])
        finally:
            checks.release()
    if not outcome.valid:
        counter = failure_counter(slot, client_ip)
        ratelimit.hit(session, counter, FAILURE_LIMIT, WINDOW_SECONDS, utcnow())
        log.warning("ingest.password_refused", slot_id=slot.slot_id, ip=client_ip)
        raise IngestError("invalid_password")
    if outcome.upgraded_hash is None:
        return
    if slot.ingest_password_hash:
        upgrade_slot_password_hash(session, slot.slot_id, stored, outcome.upgraded_hash)
    else:
        upgrade_ingest_password_hash(session, stored, outcome.upgraded_hash)
