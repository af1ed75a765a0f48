"""The Bot API client against the fake Telegram server: wire format and error classification."""

from __future__ import annotations

import socket

import pytest
import requests

from app.bot.telegram_api import Failure, TelegramApi, TelegramError
from tests.fakes.telegram import BOT_USER, TOKEN, TelegramFake


@pytest.fixture
def api(telegram: TelegramFake, http: requests.Session) -> TelegramApi:
    return TelegramApi(http, telegram.base_url + "/", TOKEN)


def test_get_me_posts_a_json_body_to_the_token_path(api, telegram):
    bot = api.get_me()

    assert (bot.id, bot.username) == (BOT_USER["id"], BOT_USER["username"])
    (call,) = telegram.calls
    assert (call.method, call.http_method, call.content_type, call.params) == (
        "getMe",
        "POST",
        "application/json",
        {},
    )


def test_flood_control_is_a_rejection_carrying_telegram_description(api, telegram):
    telegram.fail("getWebhookInfo", 429, "Too Many Requests: retry after 35", retry_after=35)

    with pytest.raises(TelegramError) as raised:
        api.get_webhook_info()

    error = raised.value
    assert (error.failure, error.error_code) == (Failure.REJECTED, 429)
    assert error.description == "Too Many Requests: retry after 35"


def test_an_ok_answer_of_the_wrong_shape_is_a_bad_answer(api, telegram):
    telegram.answer_raw("getMe", 200, '{"ok": true, "result": {"id": 1}}', "application/json")

    with pytest.raises(TelegramError) as raised:
        api.get_me()

    assert raised.value.failure is Failure.BAD_ANSWER


def test_an_unreachable_server_raises_an_error_that_does_not_quote_the_token(http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = TelegramApi(http, f"http://127.0.0.1:{port}", TOKEN)

    with pytest.raises(TelegramError) as raised:
        api.get_me()

    assert raised.value.failure is Failure.UNREACHABLE
    assert raised.value.__cause__ is None
    assert TOKEN not in str(raised.value) + repr(raised.value)
