"""The fake Telegram Bot API server: pytest-httpserver handlers that check, record and answer
calls, and serve the files the bot uploads or a test registers."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.fakes.telegram.api import (
    BOT_USER,
    CALL_PATH,
    CANONICAL,
    CHAT_ACTIONS,
    FILE_PATH,
    JSON_PARAMS,
    MAX_DOWNLOAD_BYTES,
    METHOD_PARAMS,
    SECRET_TOKEN,
    TOKEN,
    UPDATE_TYPES,
    ApiFailure,
    Call,
    StoredFile,
    Webhook,
    error_response,
    flag,
    ok_response,
)


class TelegramFake:
    def __init__(self, server: HTTPServer, token: str = TOKEN) -> None:
        self.server = server
        self.token = token
        self.webhook = Webhook()
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self.files: dict[str, StoredFile] = {}
        self.downloads: list[str] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        """setMyCommands' lists by language code ("" for the default)."""
        self._scripted: dict[str, list[tuple[int | None, Callable[[], Response]]]] = {}
        self._messages: dict[int, set[int]] = {}
        self._message_ids = itertools.count(100)
        self._file_numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[dict[str, Any]], Response]] = {
            "getMe": self._get_me,
            "getWebhookInfo": self._get_webhook_info,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "setMyCommands": self._set_my_commands,
            "getFile": self._get_file,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
        }
        server.expect_request(re.compile(r"^/bot.*")).respond_with_handler(self.handle)
        server.expect_request(re.compile(r"^/file/.*")).respond_with_handler(self.serve_file)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def sent_to(self, chat_id: int) -> list[Call]:
        """What the bot sent or showed in one chat, in order (chat actions left out)."""
        with self._lock:
            return [
                call
                for call in self.calls
                if call.chat_id == chat_id and call.method.startswith(("send", "edit"))
                if call.method != "sendChatAction"
            ]

    def texts_to(self, chat_id: int) -> list[str]:
        return [call.text for call in self.sent_to(chat_id)]

    def fail(
        self,
        method: str,
        code: int,
        description: str,
        retry_after: int | None = None,
        times: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (every later one when None) with this
        Bot API error."""
        self._script(method, times, lambda: error_response(code, description, retry_after))

    def answer_raw(self, method: str, status: int, body: str, content_type: str) -> None:
        """Answer ``method`` with something that is not the Bot API's JSON (a proxy's page…)."""
        self._script(method, None, lambda: Response(body, status, content_type=content_type))

    def _script(self, method: str, times: int | None, reply: Callable[[], Response]) -> None:
        with self._lock:
            self._scripted.setdefault(method, []).append((times, reply))

    def add_file(self, data: bytes, folder: str = "photos", extension: str = "jpg") -> StoredFile:
        number = next(self._file_numbers)
        stored = StoredFile(
            file_id=f"AgACAgIAAxkBAAI{number:04d}fake",
            file_unique_id=f"AQAD{number:04d}",
            path=f"{folder}/file_{number}.{extension}",
            data=data,
        )
        with self._lock:
            self.files[stored.file_id] = stored
        return stored

    def photo_sizes(
        self, data: bytes, width: int = 1280, height: int = 960
    ) -> list[dict[str, Any]]:
        """``message.photo`` for a photo of these bytes: a thumbnail, then the large size."""
        thumb, large = self.add_file(b"thumbnail"), self.add_file(data)
        return [
            {
                "file_id": thumb.file_id,
                "file_unique_id": thumb.file_unique_id,
                "file_size": len(thumb.data),
                "width": 90,
                "height": 68,
            },
            {
                "file_id": large.file_id,
                "file_unique_id": large.file_unique_id,
                "file_size": len(data),
                "width": width,
                "height": height,
            },
        ]

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
            scripted = self._next_scripted(method)
        if scripted is not None:
            return scripted()
        try:
            return self._handlers[method](params)
        except ApiFailure as failure:
            return error_response(failure.code, failure.description, failure.retry_after)

    def serve_file(self, request: Request) -> Response:
        match = FILE_PATH.match(request.path)
        if match is None or match["token"] != self.token:
            return Response("Not Found", 404)
        with self._lock:
            stored = next((f for f in self.files.values() if f.path == match["path"]), None)
            self.downloads.append(match["path"])
        if stored is None:
            return Response("Not Found", 404)
        return Response(stored.data, 200, content_type="application/octet-stream")

    def _next_scripted(self, method: str) -> Callable[[], Response] | None:
        queue = self._scripted.get(method)
        if not queue:
            return None
        times, reply = queue[0]
        if times is not None:
            if times <= 1:
                queue.pop(0)
            else:
                queue[0] = (times - 1, reply)
        return reply

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
        for name in JSON_PARAMS & set(params):
            if isinstance(params[name], str):
                try:
                    params[name] = json.loads(params[name])
                except ValueError:
                    raise ApiFailure(400, f"Bad Request: can't parse {name} JSON object") from None
        return params

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = _required_int(params, "chat_id")
        message_id = next(self._message_ids)
        with self._lock:
            self._messages.setdefault(chat_id, set()).add(message_id)
        chat_type = "private" if chat_id > 0 else "supergroup"
        return {
            "message_id": message_id,
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": {"id": chat_id, "type": chat_type},
            "date": int(time.time()),
            **content,
        }

    def _known_message(self, params: dict[str, Any], missing: str) -> None:
        chat_id = _required_int(params, "chat_id")
        message_id = _required_int(params, "message_id")
        with self._lock:
            if message_id not in self._messages.get(chat_id, set()):
                raise ApiFailure(400, f"Bad Request: {missing}")

    def _upload(self, params: dict[str, Any], name: str, folder: str) -> StoredFile:
        value = params.get(name)
        if isinstance(value, bytes):
            return self.add_file(value, folder)
        stored = self.files.get(str(value or ""))
        if stored is None:
            raise ApiFailure(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return stored

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
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
        ):
            raise ApiFailure(400, "Bad Request: allowed updates must be an Array of String")
        if allowed is not None:
            allowed = [kind for kind in allowed if kind in UPDATE_TYPES]
        else:
            allowed = self.webhook.allowed_updates
        if flag(params.get("drop_pending_updates")):
            self.webhook.pending_update_count = 0
        before = (self.webhook.url, self.webhook.secret_token, self.webhook.allowed_updates)
        if url and before == (url, secret or None, allowed):
            return ok_response(True, "Webhook is already set")
        self.webhook.url = url
        self.webhook.secret_token = secret or None
        self.webhook.allowed_updates = allowed
        return ok_response(True, "Webhook was set" if url else "Webhook was deleted")

    def _delete_webhook(self, params: dict[str, Any]) -> Response:
        if flag(params.get("drop_pending_updates")):
            self.webhook.pending_update_count = 0
        if not self.webhook.url:
            return ok_response(True, "Webhook is already deleted")
        self.webhook.url = ""
        self.webhook.secret_token = None
        return ok_response(True, "Webhook was deleted")

    def _set_my_commands(self, params: dict[str, Any]) -> Response:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
            isinstance(c, dict) and c.get("command") and c.get("description") for c in commands
        ):
            raise ApiFailure(400, "Bad Request: can't parse commands JSON object")
        self.commands[str(params.get("language_code") or "")] = commands
        return ok_response(True)

    def _get_file(self, params: dict[str, Any]) -> Response:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiFailure(
                400, "Bad Request: wrong file_id or the file is temporarily unavailable"
            )
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise ApiFailure(400, "Bad Request: file is too big")
        return ok_response(
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "file_path": stored.path,
            }
        )

    def _send_message(self, params: dict[str, Any]) -> Response:
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiFailure(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiFailure(400, "Bad Request: message is too long")
        return ok_response(self._message(params, text=text))

    def _send_photo(self, params: dict[str, Any]) -> Response:
        _check_caption(params)
        stored = self._upload(params, "photo", "photos")
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": 1280,
            "height": 960,
        }
        return ok_response(self._message(params, photo=[size], caption=params.get("caption")))

    def _send_document(self, params: dict[str, Any]) -> Response:
        _check_caption(params)
        stored = self._upload(params, "document", "documents")
        document = {
            "file_name": stored.path.rsplit("/", 1)[-1],
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        return ok_response(self._message(params, document=document, caption=params.get("caption")))

    def _send_chat_action(self, params: dict[str, Any]) -> Response:
        _required_int(params, "chat_id")
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiFailure(400, "Bad Request: wrong parameter action in request")
        return ok_response(True)

    def _edit_message_text(self, params: dict[str, Any]) -> Response:
        self._known_message(params, "message to edit not found")
        message = self._message(params, text=str(params.get("text") or ""))
        message["message_id"] = int(params["message_id"])
        return ok_response(message)

    def _delete_message(self, params: dict[str, Any]) -> Response:
        self._known_message(params, "message to delete not found")
        with self._lock:
            self._messages[int(params["chat_id"])].discard(int(params["message_id"]))
        return ok_response(True)

    def _answer_callback_query(self, params: dict[str, Any]) -> Response:
        if not params.get("callback_query_id"):
            raise ApiFailure(400, "Bad Request: query is too old and response timeout expired")
        return ok_response(True)


def _required_int(params: dict[str, Any], name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, TypeError, ValueError):
        raise ApiFailure(400, f"Bad Request: {name} is empty") from None


def _check_caption(params: dict[str, Any]) -> None:
    if len(str(params.get("caption") or "")) > 1024:
        raise ApiFailure(400, "Bad Request: message caption is too long")
