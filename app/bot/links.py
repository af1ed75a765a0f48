"""Links that open the Telegram bot (t.me deep links with a ``start`` payload)."""

from __future__ import annotations

import re

_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def telegram_deep_link(bot_username: str | None, payload: str) -> str | None:
    """``https://t.me/<bot>?start=<payload>``, or None while no bot is configured.

    The bot's username is learnt from getMe when the admin checks the bot in Settings
    (``RuntimeSettings.telegram_bot_username``).
    """
    if not bot_username or not _PAYLOAD.match(payload):
        return None
    return f"https://t.me/{bot_username}?start={payload}"
