"""Inline keyboards and their callback data: short (Telegram allows 64 bytes), stable across
releases, and parsed strictly, so a forged or stale button is recognised as such.

Formats: ``s:<slot>`` choose a style; ``p:<pending photo id>:<slot>`` process a waiting photo
in that style; ``a:<job>`` again; ``n:<job>`` another style for the job's photo; ``o:<job>`` the
result as a file; ``l:<language>`` the language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from app.bot import texts
from app.bot.state import slot_label
from app.i18n import LANGUAGES
from app.ingest.ids import JOB_ID_PATTERN
from app.slots.models import Slot

STYLES_PER_ROW = 2
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


class Action(StrEnum):
    STYLE = "s"
    PENDING = "p"
    AGAIN = "a"
    ANOTHER = "n"
    ORIGINAL = "o"
    LANGUAGE = "l"


_SLOT = r"slot-\d{3}"
_JOB = JOB_ID_PATTERN.pattern.strip("^$")
_PATTERNS = {
    Action.STYLE: re.compile(rf"^s:(?P<slot>{_SLOT})$"),
    Action.PENDING: re.compile(rf"^p:(?P<pending>[1-9]\d{{0,17}}):(?P<slot>{_SLOT})$"),
    Action.AGAIN: re.compile(rf"^a:(?P<job>{_JOB})$"),
    Action.ANOTHER: re.compile(rf"^n:(?P<job>{_JOB})$"),
    Action.ORIGINAL: re.compile(rf"^o:(?P<job>{_JOB})$"),
    Action.LANGUAGE: re.compile(rf"^l:(?P<language>{'|'.join(LANGUAGES)})$"),
}


@dataclass(frozen=True)
class Press:
    """A parsed button press."""

    action: Action
    slot_id: str | None = None
    pending_id: int | None = None
    job_id: str | None = None
    language: str | None = None


def parse(data: str | None) -> Press | None:
    """The press ``data`` encodes, or None when it is not one of ours."""
    if not data:
        return None
    for action, pattern in _PATTERNS.items():
        match = pattern.match(data)
        if match is not None:
            values = match.groupdict()
            pending = values.get("pending")
            return Press(
                action,
                slot_id=values.get("slot"),
                pending_id=int(pending) if pending else None,
                job_id=values.get("job"),
                language=values.get("language"),
            )
    return None


def styles(slots: list[Slot], pending_id: int | None = None) -> InlineKeyboardMarkup:
    """One button per offered style; with ``pending_id`` a press processes that photo."""
    markup = InlineKeyboardMarkup(row_width=STYLES_PER_ROW)
    markup.add(
        *(
            InlineKeyboardButton(
                slot_label(slot),
                callback_data=(
                    f"p:{pending_id}:{slot.slot_id}" if pending_id else f"s:{slot.slot_id}"
                ),
            )
            for slot in slots
        )
    )
    return markup


def result(job_id: str) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup(row_width=2)
    markup.add(
        InlineKeyboardButton(texts.button_again(), callback_data=f"a:{job_id}"),
        InlineKeyboardButton(texts.button_another_style(), callback_data=f"n:{job_id}"),
    )
    markup.add(InlineKeyboardButton(texts.button_original(), callback_data=f"o:{job_id}"))
    return markup


def languages() -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup(row_width=len(LANGUAGES))
    markup.add(
        *(
            InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=f"l:{code}")
            for code in LANGUAGES
        )
    )
    return markup
