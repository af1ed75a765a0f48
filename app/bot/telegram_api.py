"""A minimal Telegram Bot API client for the admin's bot checks (getMe, getWebhookInfo, setWebhook).

Every call is ``POST <base>/bot<token>/<method>`` with a JSON body (protocols.md §4.4). The token
is part of the URL, so neither URLs nor the exceptions of ``requests`` (which quote them) ever
reach a log line or a ``TelegramError``, and urllib3's debug lines have the token masked.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import requests
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
WEBHOOK_UPDATES = ("message", "edited_message", "callback_query")
M = TypeVar("M", bound=BaseModel)
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
    REJECTED = "rejected"
    """Telegram answered ``ok: false`` (bad token, bad webhook URL…)."""
    BAD_ANSWER = "bad_answer"


class TelegramError(Exception):
    def __init__(self, failure: Failure, description: str = "", error_code: int | None = None):
        super().__init__(f"{failure}: {error_code} {description}".strip())
        self.failure = failure
        self.description = description
        self.error_code = error_code


class BotUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    is_bot: bool
    first_name: str
    username: str


class WebhookInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str
    has_custom_certificate: bool = False
    pending_update_count: int = 0
    ip_address: str | None = None
    last_error_date: datetime | None = None
    last_error_message: str | None = None
    max_connections: int | None = None
    allowed_updates: list[str] | None = None


class TelegramApi:
    def __init__(self, http: requests.Session, base_url: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._token = token

    def get_me(self) -> BotUser:
        return self._parse(BotUser, self.call("getMe"))

    def get_webhook_info(self) -> WebhookInfo:
        return self._parse(WebhookInfo, self.call("getWebhookInfo"))

    def set_webhook(
        self,
        url: str,
        secret_token: str | None,
        allowed_updates: Sequence[str] = WEBHOOK_UPDATES,
    ) -> str:
        """Point Telegram at ``url``; returns Telegram's description ("Webhook was set")."""
        params: dict[str, Any] = {"url": url, "allowed_updates": list(allowed_updates)}
        if secret_token:
            params["secret_token"] = secret_token
        body = self._send("setWebhook", params)
        return str(body.get("description") or "")

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self._send(method, params or {})["result"]

    def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        status: int | None = None
        try:
            response = self.http.post(
                f"{self.base_url}/bot{self._token}/{method}",
                json=params,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
            status = response.status_code
        except requests.RequestException:
            raise TelegramError(Failure.UNREACHABLE) from None
        finally:
            duration_ms = round((time.monotonic() - started) * 1000)
            log.info("telegram.api", method=method, status=status, duration_ms=duration_ms)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            raise TelegramError(Failure.BAD_ANSWER, error_code=status)
        if not body["ok"]:
            description = str(body.get("description") or "").replace(self._token, "…")
            code = body.get("error_code")
            raise TelegramError(
                Failure.REJECTED, description, code if isinstance(code, int) else status
            )
        if "result" not in body:
            raise TelegramError(Failure.BAD_ANSWER, error_code=status)
        return body

    @staticmethod
    def _parse(model: type[M], result: Any) -> M:
        try:
            return model.model_validate(result)
        except ValidationError:
            raise TelegramError(Failure.BAD_ANSWER) from None
