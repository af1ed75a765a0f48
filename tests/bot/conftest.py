"""The bot against the fake Bot API: a configured token and secret, two styles offered in
Telegram, and a ``deliver`` that posts updates to the webhook the way Telegram does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.config import Config
from app.slots.models import Slot
from tests.bot import updates
from tests.support.fakes.gemini import API_KEY as GEMINI_KEY
from tests.support.fakes.gemini import GeminiFake
from tests.support.fakes.telegram import TOKEN, Call, TelegramFake
from tests.support.images import make_image_bytes

SECRET = "hook_Secret-0042"
PUBLIC_BASE_URL = "https://photo.example"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
STYLES = {"slot-001": "Sepia", "slot-002": "Black & white"}
"""The slots offered in Telegram, with their button labels."""


@pytest.fixture
def fake_servers() -> Iterator[HTTPServer]:
    """One threaded loopback server for the fake Bot API and the fake Gemini: the chat-action
    helper thread and a second user must get answers while a provider call hangs."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def telegram(fake_servers: HTTPServer) -> Iterator[TelegramFake]:
    fake = TelegramFake(fake_servers)
    yield fake
    assert fake.problems == []
    fake_servers.check_handler_errors()


@pytest.fixture
def gemini(fake_servers: HTTPServer) -> Iterator[GeminiFake]:
    fake = GeminiFake(fake_servers)
    yield fake
    fake.release()
    assert fake.problems == []


@pytest.fixture
def config(
    make_config: Callable[..., Config], telegram: TelegramFake, request: pytest.FixtureRequest
) -> Config:
    """The bot's settings; tests change them with indirect parametrization."""
    values = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base": telegram.base_url,
        "telegram_webhook_secret": SECRET,
        "public_base_url": PUBLIC_BASE_URL,
        "gemini_api_key": GEMINI_KEY,
        "gemini_api_base": telegram.base_url,  # the fakes share one loopback server
    }
    return make_config(**{**values, **getattr(request, "param", {})})


@pytest.fixture
def styles(db_session: Session) -> dict[str, str]:
    """slot-001 (sepia) and slot-002 (black & white) offered in Telegram with their labels."""
    for slot_id, label in STYLES.items():
        slot = db_session.get(Slot, slot_id)
        assert slot is not None
        slot.telegram_enabled = True
        slot.telegram_label = label
        slot.settings = {**slot.settings, "delay_seconds": 0}
    db_session.commit()
    return STYLES


@pytest.fixture
def deliver(client: FlaskClient, styles: dict[str, str]) -> Callable[..., TestResponse]:
    """POST one update to the webhook with the secret header, as Telegram does."""

    def post(update: Any, secret: str | None = SECRET) -> TestResponse:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return client.post("/telegram/webhook", json=update, headers=headers)

    return post


@dataclass
class Guest:
    """One Telegram user talking to the bot in a private chat."""

    deliver: Callable[..., TestResponse]
    telegram: TelegramFake
    user: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def says(self, words: str) -> TestResponse:
        return self._delivered(updates.text(self.user, words))

    def sends_photo(self, data: bytes | None = None, caption: str | None = None) -> TestResponse:
        sizes = self.telegram.photo_sizes(data if data is not None else make_image_bytes())
        return self._delivered(updates.photo(self.user, sizes, caption))

    def presses(self, data: str) -> TestResponse:
        return self._delivered(updates.button(self.user, data))

    def presses_button(self, label: str) -> TestResponse:
        """Press the button labelled ``label`` on the latest keyboard the bot sent."""
        for call in reversed(self.telegram.sent_to(self.id)):
            for text, data in call.buttons:
                if text == label:
                    return self.presses(data)
        raise AssertionError(f"no button {label!r} in {self.texts()}")

    def texts(self) -> list[str]:
        return self.telegram.texts_to(self.id)

    def last(self) -> Call:
        return self.telegram.sent_to(self.id)[-1]

    def photos(self) -> list[Call]:
        return [call for call in self.telegram.sent_to(self.id) if call.method == "sendPhoto"]

    def _delivered(self, update: dict[str, Any]) -> TestResponse:
        response = self.deliver(update)
        assert (response.status_code, response.data) == (200, b""), response.data
        return response


@pytest.fixture
def guest(deliver: Callable[..., TestResponse], telegram: TelegramFake) -> Callable[..., Guest]:
    """``guest(user_id, language_code)``: a user of the bot (Russian app by default)."""

    def make(user_id: int = 5001, language_code: str | None = "ru") -> Guest:
        return Guest(deliver, telegram, updates.person(user_id, language_code))

    return make
