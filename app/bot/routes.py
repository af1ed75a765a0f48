"""``POST /telegram/webhook``: where Telegram delivers the bot's updates.

Telegram sends an update again when the answer is not 2xx or takes more than about 60 s, so:
the update id is claimed in PostgreSQL before any work (a second delivery, on any worker or
host, does nothing), handling is bounded by ``min(T_sync_response, 45 s)``, and the answer is 200
with an empty body once the update was handled, even when handling failed (the user is told).
"""

from __future__ import annotations

import hmac
import json
from typing import cast

import structlog
from flask import Blueprint, Response, abort, request
from telebot import types

from app import context, db
from app.bot.admin import WEBHOOK_PATH, configured_secret
from app.bot.client import connected
from app.bot.handlers import handle_update
from app.bot.processing import Turn, update_seconds
from app.bot.state import claim_update
from app.db import utcnow
from app.deadline import request_deadline
from app.ingest.capacity import current_capacity
from app.providers.base import request_outbound
from app.settings.service import load_settings

log = structlog.get_logger(__name__)

bp = Blueprint("telegram", __name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_UPDATE_BYTES = 1024 * 1024


@bp.post(WEBHOOK_PATH)
def webhook() -> Response:
    config = context.config()
    if not config.telegram_bot_token:
        abort(404)
    session = db.session()
    expected = configured_secret(session, config)
    given = request.headers.get(SECRET_HEADER, "")
    if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("bot.webhook_forbidden", secret_sent=bool(given))
        abort(403)
    update = parse_update()
    runtime = load_settings(session, config)
    if not claim_update(session, update.update_id, utcnow()):
        log.info("bot.update_repeated", update_id=update.update_id)
        return Response(status=200)
    deadline = request_deadline(update_seconds(runtime))
    log.info("bot.update", update_id=update.update_id)
    outbound = request_outbound()
    try:
        with connected(config, outbound.http, deadline) as bot:
            turn = Turn(
                bot=bot,
                session=session,
                config=config,
                runtime=runtime,
                store=context.media_store(),
                outbound=outbound,
                capacity=current_capacity(),
                deadline=deadline,
                update_id=update.update_id,
            )
            handle_update(turn, update)
    except Exception:
        session.rollback()
        log.exception("bot.update_failed", update_id=update.update_id)
    return Response(status=200)


def parse_update() -> types.Update:
    """The request body as one Telegram ``Update``, or a 400 (413 when implausibly large)."""
    if (request.content_length or 0) > MAX_UPDATE_BYTES:
        abort(413)
    try:
        body = json.loads(request.get_data(cache=False))
    except ValueError:
        abort(400)
    update_id = body.get("update_id") if isinstance(body, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        abort(400)
    try:
        update = types.Update.de_json(body)  # type: ignore[no-untyped-call]
    except (KeyError, TypeError, ValueError, AttributeError):
        abort(400)
    return cast(types.Update, update)
