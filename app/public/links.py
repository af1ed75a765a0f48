from __future__ import annotations

from flask import request, url_for

from app import context
from app.bot.links import telegram_deep_link
from app.public.service import ResultLinks

RESULT_START_PREFIX = "r_"
"""``/start r_<job_id>`` makes the bot send that result (PRODUCT §8)."""


def external_base_url() -> str:
    """PUBLIC_BASE_URL when set, else the scheme and host the client used."""
    return (context.config().public_base_url or request.host_url).rstrip("/")


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


def telegram_result_link(bot_username: str | None, job_id: str) -> str | None:
    return telegram_deep_link(bot_username, RESULT_START_PREFIX + job_id)
