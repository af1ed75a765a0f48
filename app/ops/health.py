"""``/healthz``: the database and the media volume must work; anything else is only reported
(how many stored secrets SECRET_KEY cannot read: booths whose providers are fine keep working).
The endpoint is public, so it never names them: the start's log and ``photochanger secrets
status`` do.

A load balancer or Docker asks every few seconds, also while photo jobs keep both cores busy, so a
check is one round trip to PostgreSQL and one file on the volume; the secrets are counted at most
once a minute per process (``SECRETS_RECOUNT_SECONDS``), so a warning can outlast its cause (a key
entered anew) by up to a minute."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify

from app import context, db
from app.ops.stored_secrets import unreadable_secrets

bp = Blueprint("health", __name__)


def check_database() -> None:
    # autocommit: no BEGIN and no ROLLBACK around the query, one round trip instead of three
    with db.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("SELECT 1"))


def check_media() -> None:
    probe = context.media_store().temp_dir / f".healthz-{secrets.token_hex(4)}"
    probe.write_bytes(b"ok")
    probe.unlink()


CHECKS = {"database": check_database, "media": check_media}


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    checks: dict[str, Any] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as error:  # any failure of a dependency makes the instance unhealthy
            healthy = False
            checks[name] = f"error: {type(error).__name__}"
    body: dict[str, Any] = {"status": "ok" if healthy else "error", "checks": checks}
    if healthy and (unreadable := unreadable_secrets_count()):
        body["warnings"] = {"unreadable_secrets": unreadable}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


SECRETS_RECOUNT_SECONDS = 60.0
"""Stored secrets turn unreadable only when SECRET_KEY changes (a restart) or a server with another
key writes them; counting them takes three queries, HMACs and decryptions, most of a check."""
SECRETS_COUNT = "photochanger.unreadable_secrets_count"


@dataclass(frozen=True)
class SecretsCount:
    unreadable: int
    counted_at: float
    """``time.monotonic()`` of the count."""


def unreadable_secrets_count() -> int:
    """How many stored secrets no configured key reads, counted at most once a minute per process
    (0 while the database cannot tell)."""
    counted: SecretsCount | None = current_app.extensions.get(SECRETS_COUNT)
    now = time.monotonic()
    if counted is None or now - counted.counted_at >= SECRETS_RECOUNT_SECONDS:
        try:
            unreadable = unreadable_secrets(db.session(), context.config())
        except sa.exc.SQLAlchemyError:  # the database went away after its check
            return counted.unreadable if counted else 0
        counted = SecretsCount(len(unreadable), now)
        current_app.extensions[SECRETS_COUNT] = counted
    return counted.unreadable
