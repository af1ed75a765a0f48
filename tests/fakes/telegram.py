"""A fake Telegram Bot API server (protocols.md §4) as pytest-httpserver handlers on 127.0.0.1.

Calls are ``/bot<token>/<method>`` with case-insensitive method names and parameters read from the
query string, a urlencoded or multipart form, or a JSON object body — all four, as the real server
does. A wrong token gets the real ``401 Unauthorized``; errors carry ``HTTP status == error_code``
(and ``Retry-After`` on 429). Parameters a method does not document are contract violations: they
are recorded in ``problems`` (the fixture fails on any) and refused. Accepted calls are recorded in
``calls``. The webhook state set by ``setWebhook`` is what ``getWebhookInfo`` reports. Like the
cloud server it refuses webhook URLs that are not HTTPS.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TOKEN = "7712345678:AAHfakeTelegramBotToken-0042_xyz"
BOT_USER: dict[str, Any] = {
    "id": 7712345678,
    "is_bot": True,
    "first_name": "PhotoChanger",
    "username": "PhotoChangerTestBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
METHOD_PARAMS: dict[str, frozenset[str]] = {
    "getMe": frozenset(),
    "getWebhookInfo": frozenset(),
    "setWebhook": frozenset(
        {
            "url",
            "certificate",
            "ip_address",
            "max_connections",
            "allowed_updates",
            "drop_pending_updates",
            "secret_token",
        }
    ),
}
CANONICAL = {name.lower(): name for name in METHOD_PARAMS}
CALL_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[^/]*)$")
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "message_reaction",
        "message_reaction_count",
    }
)


@dataclass
class Call:
    method: str
    """The canonical method name, whatever case was sent."""
    http_method: str
    params: dict[str, Any]
    content_type: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class Webhook:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    pending_update_count: int = 0
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self) -> dict[str, Any]:
        """getWebhookInfo's result: optional fields only when they have a value."""
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": self.pending_update_count,
        }
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        if self.url:
            info["max_connections"] = self.max_connections
            info["ip_address"] = "203.0.113.7"
        if self.allowed_updates is not None:
            info["allowed_updates"] = self.allowed_updates
        return info


class ApiFailure(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def error_response(code: int, description: str, retry_after: int | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    headers = {}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
        headers["Retry-After"] = str(retry_after)
    return Response(json.dumps(body), code, headers, content_type="application/json")


def ok_response(result: Any, description: str | None = None) -> Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return Response(json.dumps(body), 200, content_type="application/json")


class TelegramFake:
    def __init__(self, server: HTTPServer, token: str = TOKEN) -> None:
        self.server = server
        self.token = token
        self.webhook = Webhook()
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self._scripted: dict[str, Callable[[], Response]] = {}
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[dict[str, Any]], Response]] = {
            "getMe": self._get_me,
            "getWebhookInfo": self._get_webhook_info,
            "setWebhook": self._set_webhook,
        }
        server.expect_request(re.compile(r"^/bot.*")).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def fail(
        self, method: str, code: int, description: str, retry_after: int | None = None
    ) -> None:
        """Answer every later call of ``method`` with this Bot API error."""
        self._scripted[method] = lambda: error_response(code, description, retry_after)

    def answer_raw(self, method: str, status: int, body: str, content_type: str) -> None:
        """Answer ``method`` with something that is not the Bot API's JSON (a proxy's page…)."""
        self._scripted[method] = lambda: Response(body, status, content_type=content_type)

    def handle(self, request: Request) -> Response:
        match = CALL_PATH.match(request.path)
        if match is None:
            return error_response(404, "Not Found")
        if match["token"] != self.token:
            return error_response(401, "Unauthorized")
        method = CANONICAL.get(match["method"].lower())
        if method is None:
            return error_response(404, "Not Found: method not found")
        try:
            params = self._params(request)
        except ApiFailure as failure:
            return error_response(failure.code, failure.description)
        unknown = sorted(set(params) - METHOD_PARAMS[method])
        if unknown:
            problem = f"{method} got undocumented parameters {unknown}"
            with self._lock:
                self.problems.append(problem)
            return error_response(400, f"Bad Request: fake: {problem}")
        with self._lock:
            self.calls.append(Call(method, request.method, params, request.mimetype))
            scripted = self._scripted.get(method)
        if scripted is not None:
            return scripted()
        try:
            return self._handlers[method](params)
        except ApiFailure as failure:
            return error_response(failure.code, failure.description, failure.retry_after)

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.args)
        if request.mimetype == "application/json":
            try:
                body = json.loads(request.get_data() or b"{}")
            except ValueError:
                raise ApiFailure(400, "Bad Request: can't parse JSON object") from None
            if not isinstance(body, dict):
                raise ApiFailure(400, "Bad Request: can't parse JSON object")
            params.update(body)
        else:
            params.update(request.form)
            params.update({name: file.read() for name, file in request.files.items()})
        return params

    def _get_me(self, params: dict[str, Any]) -> Response:
        return ok_response(BOT_USER)

    def _get_webhook_info(self, params: dict[str, Any]) -> Response:
        return ok_response(self.webhook.info())

    def _set_webhook(self, params: dict[str, Any]) -> Response:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise ApiFailure(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if len(secret) > 256:
                raise ApiFailure(400, "Bad Request: secret token is too long")
            if not SECRET_TOKEN.match(secret):
                raise ApiFailure(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            try:
                allowed = json.loads(allowed)
            except ValueError:
                raise ApiFailure(400, "Bad Request: can't parse allowed updates JSON") from None
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
        ):
            raise ApiFailure(400, "Bad Request: allowed updates must be an Array of String")
        if allowed is not None:
            allowed = [kind for kind in allowed if kind in UPDATE_TYPES]
        else:
            allowed = self.webhook.allowed_updates
        before = (self.webhook.url, self.webhook.secret_token, self.webhook.allowed_updates)
        if url and before == (url, secret or None, allowed):
            return ok_response(True, "Webhook is already set")
        self.webhook.url = url
        self.webhook.secret_token = secret or None
        self.webhook.allowed_updates = allowed
        return ok_response(True, "Webhook was set" if url else "Webhook was deleted")
