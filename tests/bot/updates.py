"""Telegram updates as the Bot API server delivers them to a webhook (field names and types as
its JSON writer emits them: callback ids and ``chat_instance`` are strings)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.support.fakes.telegram import BOT_USER

_update_ids = itertools.count(700_000_001)
_message_ids = itertools.count(1)
_callback_ids = itertools.count(4_397_000_000_000_000_001)
BOT_USERNAME = BOT_USER["username"]


def person(user_id: int, language_code: str | None = "ru") -> dict[str, Any]:
    sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Guest"}
    if language_code is not None:
        sender["language_code"] = language_code
    return sender


def private_chat(sender: dict[str, Any]) -> dict[str, Any]:
    return {"id": sender["id"], "first_name": sender["first_name"], "type": "private"}


def group_chat(chat_id: int = -1001234567890) -> dict[str, Any]:
    return {"id": chat_id, "title": "Wedding guests", "type": "supergroup"}


def message(
    sender: dict[str, Any], chat: dict[str, Any] | None = None, **content: Any
) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": sender,
            "chat": chat or private_chat(sender),
            "date": int(time.time()),
            **content,
        },
    }


def text(sender: dict[str, Any], words: str, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    """A text message; a leading ``/command`` (``/start@Bot`` too) gets its entity."""
    content: dict[str, Any] = {"text": words}
    if words.startswith("/"):
        length = len(words.split()[0])
        content["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return message(sender, chat, **content)


def photo(
    sender: dict[str, Any],
    sizes: list[dict[str, Any]],
    caption: str | None = None,
    chat: dict[str, Any] | None = None,
) -> dict[str, Any]:
    content: dict[str, Any] = {"photo": sizes}
    if caption is not None:
        content["caption"] = caption
    return message(sender, chat, **content)


def document(
    sender: dict[str, Any], file_id: str, size: int, mime: str, name: str = "IMG_0042.JPG"
) -> dict[str, Any]:
    return message(
        sender,
        document={
            "file_name": name,
            "mime_type": mime,
            "file_id": file_id,
            "file_unique_id": "AgADdoc" + file_id[-4:],
            "file_size": size,
        },
    )


def edited(update: dict[str, Any]) -> dict[str, Any]:
    """The same message edited later: delivered under ``edited_message`` with ``edit_date``."""
    edited_message = {**update["message"], "edit_date": int(time.time())}
    return {"update_id": next(_update_ids), "edited_message": edited_message}


def button(sender: dict[str, Any], data: str, message_id: int = 100) -> dict[str, Any]:
    """A press on an inline button under the bot's message ``message_id``."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_callback_ids)),
            "from": sender,
            "message": {
                "message_id": message_id,
                "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
                "chat": private_chat(sender),
                "date": int(time.time()),
                "text": "…",
            },
            "chat_instance": "-5871234567890123456",
            "data": data,
        },
    }
