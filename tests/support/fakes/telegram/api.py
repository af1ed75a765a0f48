"""What the fake Telegram Bot API knows of the real one: its methods and their parameters,
the recorded calls, the webhook state, and the shape of its answers."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Response

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


MAX_DOWNLOAD_BYTES = 20 << 20
_SEND_COMMON = frozenset(
    {
        "business_connection_id",
        "chat_id",
        "message_thread_id",
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "message_effect_id",
        "reply_parameters",
        "reply_markup",
        "reply_to_message_id",
        "allow_sending_without_reply",
    }
)


_CAPTION = frozenset({"caption", "parse_mode", "caption_entities", "show_caption_above_media"})
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
    "deleteWebhook": frozenset({"drop_pending_updates"}),
    "setMyCommands": frozenset({"commands", "scope", "language_code"}),
    "getFile": frozenset({"file_id"}),
    "sendMessage": _SEND_COMMON
    | {"text", "parse_mode", "entities", "link_preview_options", "disable_web_page_preview"},
    "sendPhoto": _SEND_COMMON | _CAPTION | {"photo", "has_spoiler"},
    "sendDocument": _SEND_COMMON
    | _CAPTION
    | {"document", "thumbnail", "disable_content_type_detection"},
    "sendChatAction": frozenset(
        {"business_connection_id", "chat_id", "message_thread_id", "action"}
    ),
    "editMessageText": frozenset(
        {
            "business_connection_id",
            "chat_id",
            "message_id",
            "inline_message_id",
            "text",
            "parse_mode",
            "entities",
            "link_preview_options",
            "disable_web_page_preview",
            "reply_markup",
        }
    ),
    "deleteMessage": frozenset({"chat_id", "message_id"}),
    "answerCallbackQuery": frozenset(
        {"callback_query_id", "text", "show_alert", "url", "cache_time"}
    ),
}


JSON_PARAMS = frozenset(
    {
        "allowed_updates",
        "commands",
        "scope",
        "reply_markup",
        "reply_parameters",
        "link_preview_options",
        "entities",
        "caption_entities",
    }
)
"""Parameters that are JSON-serialized objects or arrays when sent as text."""


CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


CANONICAL = {name.lower(): name for name in METHOD_PARAMS}
CALL_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[^/]*)$")
FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]*)/(?P<path>.+)$")
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

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return None if value is None else int(value)

    @property
    def text(self) -> str:
        """What the user reads: the message text or the media caption."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """The inline keyboard as ``(label, callback_data)`` pairs, row by row."""
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        return [
            (b["text"], b.get("callback_data") or b.get("url", "")) for row in rows for b in row
        ]


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


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    path: str
    data: bytes


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


def flag(value: Any) -> bool:
    """A boolean parameter as the server reads it (``true``/``yes``/``1``, any case)."""
    return value is True or str(value).lower() in ("true", "yes", "1")
