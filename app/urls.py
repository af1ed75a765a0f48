"""Every address the app hands out to the outside: to booths, guests, providers and Telegram.

Addresses start at PUBLIC_BASE_URL when it is set (the app behind a proxy or tunnel), else at the
scheme and host the client used; they need a request context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import request, url_for

from app import context
from app.proxy import host_is_trusted

RESULT_START_PREFIX = "r_"
"""``/start r_<job_id>`` makes the bot send that result; any other payload names a slot."""

_START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ResultLinks:
    page: str
    file: str
    download: str
    preview: str


def external_base_url() -> str:
    """PUBLIC_BASE_URL when set, else the scheme and host the client used — when that host is
    trusted (see ``app.proxy``); else nothing, so links stay relative to the site the client is on
    rather than pointing wherever a forged Host header says."""
    config = context.config()
    if config.public_base_url:
        return config.public_base_url.rstrip("/")
    if host_is_trusted(request.environ, request.host, config.allowed_host_names):
        return request.host_url.rstrip("/")
    return ""


def external_url(endpoint: str, **values: str) -> str:
    return external_base_url() + url_for(endpoint, _external=False, **values)


def result_page_url(job_id: str) -> str:
    return external_url("public.result_page", job_id=job_id)


def result_links(job_id: str) -> ResultLinks:
    return ResultLinks(
        page=result_page_url(job_id),
        file=external_url("public.result_file", job_id=job_id),
        download=external_url("public.result_file", job_id=job_id, download="1"),
        preview=external_url("public.result_preview", job_id=job_id),
    )


def ingest_url(slot_id: str) -> str:
    """The booth's URL (``/ingest/<slot_id>``, not the ``/api/ingest`` alias)."""
    return external_url("ingest.ingest", slot_id=slot_id)


def public_gallery_url() -> str:
    return external_url("gallery.public_gallery")


def telegram_deep_link(bot_username: str | None, payload: str) -> str | None:
    """``https://t.me/<bot>?start=<payload>``, or None while no bot is configured.

    The bot's username is learnt from getMe when the admin checks the bot in Settings
    (``RuntimeSettings.telegram_bot_username``).
    """
    if not bot_username or not _START_PAYLOAD.match(payload):
        return None
    return f"https://t.me/{bot_username}?start={payload}"


def telegram_slot_link(bot_username: str | None, slot_id: str) -> str | None:
    """Opens the bot with this slot chosen."""
    return telegram_deep_link(bot_username, slot_id)


def telegram_result_link(bot_username: str | None, job_id: str) -> str | None:
    """Opens the bot, which then sends this result."""
    return telegram_deep_link(bot_username, RESULT_START_PREFIX + job_id)
