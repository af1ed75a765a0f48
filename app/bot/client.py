"""The one way the product talks to Telegram: pyTelegramBotAPI, its HTTP through ``app.outbound``.

pyTelegramBotAPI builds the calls and parses the answers; its ``apihelper.CUSTOM_REQUEST_SENDER``
hook hands every request to ``send_request``, which sends it with ``app.outbound.send`` under the
deadline of the block that opened the bot (``connected``), so each call has timeouts derived from
the time left and is logged without the token. Calls are sent as POST with a JSON body (multipart
when a file is uploaded) rather than pyTelegramBotAPI's query string, so message texts never sit
in URLs (proxy logs, URL length limits). Every failure comes out as ``TelegramError``, whose
message never quotes the token, a URL or a response body.

``apihelper.API_URL`` and ``FILE_URL`` are module globals of pyTelegramBotAPI: ``connected``
points them at ``TELEGRAM_API_BASE``, which is the same for every app of a process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any

import requests
from telebot import TeleBot, apihelper

from app.config import Config
from app.deadline import Deadline
from app.outbound import AnswerTooLarge, OutboundError, OutboundTimeout, json_body, send

SERVICE = "telegram"
WEBHOOK_UPDATES = ("message", "edited_message", "callback_query")
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""Telegram's cloud Bot API serves files up to 20 MB to bots."""
_TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+/")


class _MaskBotTokens(logging.Filter):
    """urllib3 logs each request line at DEBUG, and a Bot API path holds the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub("/bot…/", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskBotTokens())


class Failure(StrEnum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    """No answer before the deadline."""
    REJECTED = "rejected"
    """Telegram answered ``ok: false`` (bad token, blocked by the user, flood control…)."""
    BAD_ANSWER = "bad_answer"
    TOO_LARGE = "too_large"
    """A file larger than a bot may download."""


class TelegramError(Exception):
    def __init__(
        self,
        failure: Failure,
        description: str = "",
        error_code: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{failure}: {error_code or ''} {description}".strip())
        self.failure = failure
        self.description = description
        self.error_code = error_code
        self.retry_after = retry_after

    @property
    def blocked(self) -> bool:
        """The user blocked the bot or deleted the chat: nothing more can be sent there."""
        return self.error_code == 403


@dataclass(frozen=True)
class _Channel:
    http: requests.Session
    deadline: Deadline
    token: str


_channel: ContextVar[_Channel | None] = ContextVar("telegram_channel", default=None)


@contextmanager
def connected(config: Config, http: requests.Session, deadline: Deadline) -> Iterator[TeleBot]:
    """A bot whose calls inside this block go through ``http`` and end by ``deadline``.

    Handlers run inside ``process_new_updates`` (``threaded=False``); no state is kept in the
    bot between requests. A helper thread that calls Telegram must run in a copy of this
    context (``contextvars.copy_context``).
    """
    token = config.telegram_bot_token
    if not token:
        raise TelegramError(Failure.REJECTED, "No bot token is configured.")
    point_at(config.telegram_api_base)
    setattr(apihelper, "CUSTOM_REQUEST_SENDER", send_request)  # noqa: B010 - typed as None
    try:
        bot = TeleBot(token, threaded=False)
    except ValueError:
        raise TelegramError(Failure.REJECTED, "The bot token is malformed.", 401) from None
    reset = _channel.set(_Channel(http, deadline, token))
    try:
        yield bot
    finally:
        _channel.reset(reset)


def point_at(api_base: str) -> None:
    base = api_base.rstrip("/")
    setattr(apihelper, "API_URL", base + "/bot{0}/{1}")  # noqa: B010 - typed as None
    setattr(apihelper, "FILE_URL", base + "/file/bot{0}/{1}")  # noqa: B010


def send_request(
    method: str,
    url: str,
    params: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    timeout: Any = None,
    proxies: Any = None,
) -> requests.Response:
    """pyTelegramBotAPI's request hook: one Bot API call, classified, by the block's deadline."""
    channel = _channel.get()
    if channel is None:
        raise RuntimeError("Telegram is called outside telegram.connected().")
    body: dict[str, Any] = {"data": params, "files": files} if files else {"json": params or {}}
    response = _send(channel, "POST", url, timeout=timeout, **body)
    answer = json_body(response)
    if answer is None or not isinstance(answer.get("ok"), bool):
        raise TelegramError(Failure.BAD_ANSWER, error_code=response.status_code)
    if not answer["ok"]:
        code = answer.get("error_code")
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise TelegramError(
            Failure.REJECTED,
            str(answer.get("description") or "").replace(channel.token, "…"),
            code if isinstance(code, int) else response.status_code,
            retry_after if isinstance(retry_after, int) else None,
        )
    if "result" not in answer:
        raise TelegramError(Failure.BAD_ANSWER, error_code=response.status_code)
    return response


def download(bot: TeleBot, file_id: str, spool: IO[bytes]) -> int:
    """Write a file the user sent into ``spool``; returns its size. Files over 20 MB raise
    ``TelegramError(TOO_LARGE)`` without being downloaded."""
    channel = _channel.get()
    if channel is None:
        raise RuntimeError("Telegram is called outside telegram.connected().")
    try:
        info = bot.get_file(file_id)
    except TelegramError as error:
        if "too big" in error.description:
            raise TelegramError(Failure.TOO_LARGE, error.description, error.error_code) from None
        raise
    if (info.file_size or 0) > MAX_DOWNLOAD_BYTES or not info.file_path:
        raise TelegramError(Failure.TOO_LARGE, "The file is too big to download.")
    url = str(apihelper.FILE_URL).format(channel.token, info.file_path)
    response = _send(channel, "GET", url, max_bytes=MAX_DOWNLOAD_BYTES)
    if response.status_code != 200:
        raise TelegramError(
            Failure.REJECTED, "The file could not be downloaded.", response.status_code
        )
    spool.write(response.content)
    spool.seek(0)
    return len(response.content)


def _send(channel: _Channel, method: str, url: str, **kwargs: Any) -> requests.Response:
    try:
        return send(channel.http, method, url, service=SERVICE, deadline=channel.deadline, **kwargs)
    except OutboundTimeout:
        raise TelegramError(Failure.TIMEOUT) from None
    except AnswerTooLarge:
        raise TelegramError(Failure.TOO_LARGE) from None
    except OutboundError:
        raise TelegramError(Failure.UNREACHABLE) from None
