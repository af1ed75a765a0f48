"""The one Telegram client (pyTelegramBotAPI over ``app.outbound``) against the fake Bot API:
the wire format, error classification, downloads and log hygiene."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from app.bot.admin import bot_user, webhook_info
from app.bot.client import MAX_DOWNLOAD_BYTES, Failure, TelegramError, connected, download
from app.config import Config
from app.deadline import Deadline
from tests.support.fakes.telegram import BOT_USER, TOKEN, TelegramFake
from tests.support.servers import closed_port_url


@pytest.fixture
def open_bot(
    make_config: Callable[..., Config], telegram: TelegramFake, http: requests.Session
) -> Iterator[Callable[..., Any]]:
    """``open_bot(seconds=10, **config)``: a connected bot pointed at the fake by default."""

    def open_(seconds: float = 10, **overrides: Any) -> Any:
        values = {"telegram_bot_token": TOKEN, "telegram_api_base": telegram.base_url}
        config = make_config(**{**values, **overrides})
        return connected(config, http, Deadline.after(seconds))

    yield open_


def test_calls_are_posts_with_a_json_body_to_the_token_path(open_bot, telegram):
    with open_bot() as bot:
        me = bot_user(bot)

    assert (me.id, me.username) == (BOT_USER["id"], BOT_USER["username"])
    (call,) = telegram.calls
    assert (call.method, call.http_method, call.content_type, call.params) == (
        "getMe",
        "POST",
        "application/json",
        {},
    )


def test_an_upload_is_multipart_with_the_other_parameters_as_form_fields(open_bot, telegram):
    with open_bot() as bot:
        bot.send_photo(42, b"\xff\xd8 a photo", caption="Sepia")

    (call,) = telegram.calls_of("sendPhoto")
    assert call.content_type == "multipart/form-data"
    assert call.params == {"chat_id": "42", "caption": "Sepia", "photo": b"\xff\xd8 a photo"}


def test_flood_control_is_a_rejection_carrying_the_description_and_the_wait(open_bot, telegram):
    telegram.fail("getWebhookInfo", 429, "Too Many Requests: retry after 35", retry_after=35)

    with open_bot() as bot, pytest.raises(TelegramError) as raised:
        webhook_info(bot)

    error = raised.value
    assert (error.failure, error.error_code, error.retry_after) == (Failure.REJECTED, 429, 35)
    assert error.description == "Too Many Requests: retry after 35"


def test_a_user_who_blocked_the_bot_is_recognised(open_bot, telegram):
    telegram.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")

    with open_bot() as bot, pytest.raises(TelegramError) as raised:
        bot.send_message(42, "Hello")

    assert raised.value.blocked


def test_an_ok_answer_of_the_wrong_shape_is_a_bad_answer(open_bot, telegram):
    telegram.answer_raw("getMe", 200, '{"ok": true, "result": {"id": 1}}', "application/json")

    with open_bot() as bot, pytest.raises(TelegramError) as raised:
        bot_user(bot)

    assert raised.value.failure is Failure.BAD_ANSWER


def test_a_proxy_error_page_is_a_bad_answer_with_its_status(open_bot, telegram):
    telegram.answer_raw("getMe", 502, "<html>502 Bad Gateway</html>", "text/html")

    with open_bot() as bot, pytest.raises(TelegramError) as raised:
        bot_user(bot)

    assert (raised.value.failure, raised.value.error_code) == (Failure.BAD_ANSWER, 502)


def test_an_unreachable_server_raises_an_error_that_does_not_quote_the_token(open_bot):
    with (
        open_bot(telegram_api_base=closed_port_url()) as bot,
        pytest.raises(TelegramError) as raised,
    ):
        bot_user(bot)

    assert raised.value.failure is Failure.UNREACHABLE
    assert raised.value.__cause__ is None
    assert TOKEN not in str(raised.value) + repr(raised.value)


def test_no_call_is_made_once_the_deadline_has_passed(open_bot, telegram):
    with open_bot(seconds=0) as bot, pytest.raises(TelegramError) as raised:
        bot_user(bot)

    assert raised.value.failure is Failure.TIMEOUT
    assert telegram.calls == []


def test_a_download_writes_the_file_the_user_sent(open_bot, telegram):
    stored = telegram.add_file(b"\xff\xd8 the guest's photo")
    spool = io.BytesIO()

    with open_bot() as bot:
        size = download(bot, stored.file_id, spool)

    assert (size, spool.getvalue()) == (len(stored.data), stored.data)
    assert telegram.downloads == [stored.path]


def test_a_file_over_20_mb_is_refused_without_downloading_it(open_bot, telegram):
    stored = telegram.add_file(b"x" * (MAX_DOWNLOAD_BYTES + 1))

    with open_bot() as bot, pytest.raises(TelegramError) as raised:
        download(bot, stored.file_id, io.BytesIO())

    assert raised.value.failure is Failure.TOO_LARGE
    assert telegram.downloads == []


def test_the_token_reaches_no_log_line(open_bot, telegram, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    telegram.fail("sendMessage", 400, "Bad Request: chat not found")

    with open_bot() as bot:
        bot_user(bot)
        with pytest.raises(TelegramError):
            bot.send_message(42, "Hello")

    captured = capfd.readouterr()
    app_lines = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")
    )
    assert "sendMessage" in captured.out + app_lines
    assert TOKEN not in captured.out + captured.err + app_lines


@pytest.mark.parametrize("encoding", ["query", "form", "json", "multipart"])
def test_the_fake_reads_parameters_wherever_they_are_sent(telegram, http, encoding):
    params = {"chat_id": "42", "text": "Привет", "reply_markup": json.dumps({"k": 1})}
    url = f"{telegram.base_url}/bot{TOKEN}/SENDMESSAGE"
    sent = {
        "query": lambda: http.get(url, params=params, timeout=5),
        "form": lambda: http.post(url, data=params, timeout=5),
        "json": lambda: http.post(url, json=params, timeout=5),
        "multipart": lambda: http.post(
            url, files={name: (None, value) for name, value in params.items()}, timeout=5
        ),
    }[encoding]()

    assert sent.status_code == 200 and sent.json()["ok"] is True
    (call,) = telegram.calls_of("sendMessage")
    assert call.params == {"chat_id": "42", "text": "Привет", "reply_markup": {"k": 1}}


def test_the_fake_answers_errors_with_the_status_equal_to_the_error_code(telegram, http):
    telegram.fail("sendPhoto", 429, "Too Many Requests: retry after 7", retry_after=7)

    answer = http.post(f"{telegram.base_url}/bot{TOKEN}/sendPhoto", json={}, timeout=5)

    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "7")
    assert answer.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }


def test_a_bot_made_with_a_malformed_token_is_a_rejection_not_a_crash(open_bot):
    with pytest.raises(TelegramError) as raised, open_bot(telegram_bot_token="no colon"):
        pass

    assert raised.value.error_code == 401
