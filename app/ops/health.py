"""``/healthz``: the database and the media volume must work; anything else is only reported
(how many stored secrets SECRET_KEY cannot read: booths whose providers are fine keep working).
The endpoint is public, so it never names them: the start's log and ``photochanger secrets
status`` do. Counting them costs two small queries and a few HMACs and decryptions."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from app import context, db
from app.ops.stored_secrets import unreadable_secrets

bp = Blueprint("health", __name__)


def check_database() -> None:
    with db.engine().connect() as connection:
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
    if healthy and (unreadable := _unreadable_secrets()):
        body["warnings"] = {"unreadable_secrets": len(unreadable)}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def _unreadable_secrets() -> list[str]:
    try:
        return unreadable_secrets(db.session(), context.config())
    except sa.exc.SQLAlchemyError:  # the database went away after its check: reported next time
        return []
