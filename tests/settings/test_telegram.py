"""The Telegram card: "not configured" without a token; with one, the bot and its webhook as the
fake Bot API on 127.0.0.1 reports them, the Set webhook button, and Telegram's errors shown."""

from __future__ import annotations

import logging

import pytest
import requests

from app.bot.client import WEBHOOK_UPDATES
from app.settings.service import load_settings
from tests.support.fakes.telegram import BOT_USER, TOKEN, Webhook
from tests.support.pages import marked_text
from tests.support.servers import free_port

SECRET = "hook_Secret-0042"
BEHIND_HTTPS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "studio.example",
    "Referer": "https://studio.example/admin/settings",
}


@pytest.fixture
def config(make_config, telegram, request):
    """A bot token for the fake, behind one proxy; tests change it with indirect parametrization."""
    values = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base": telegram.base_url,
        "telegram_webhook_secret": SECRET,
        "proxy_hops": 1,
    }
    return make_config(**{**values, **getattr(request, "param", {})})


@pytest.fixture
def public_admin(admin):
    """The admin reaching the server through an HTTPS proxy at studio.example."""
    admin.session.headers.update(BEHIND_HTTPS)
    return admin


def bot_card(response: requests.Response) -> str:
    return marked_text(response.text, 'id="telegram-bot"')


@pytest.mark.parametrize("config", [{"telegram_bot_token": None}], indirect=True)
def test_without_a_token_the_bot_shows_not_configured_and_telegram_is_never_called(admin, telegram):
    page = admin.get("/admin/settings").text
    status = admin.get("/admin/settings/telegram", htmx=True)

    assert 'data-telegram-state="off"' in page
    assert bot_card(status).startswith("Not configured")
    assert telegram.calls == []


def test_the_page_itself_waits_for_no_telegram_call(admin, telegram):
    page = admin.get("/admin/settings").text

    assert 'data-telegram-state="pending"' in page
    assert 'hx-get="/admin/settings/telegram"' in page
    assert telegram.calls == []


def test_the_bot_state_shows_its_name_and_the_webhook_with_its_last_error(
    admin, telegram, db_session, config
):
    telegram.webhook = Webhook(
        url="https://old.example/telegram/webhook",
        pending_update_count=3,
        last_error_date=1787390000,
        last_error_message="Wrong response from the webhook: 502 Bad Gateway",
    )

    response = admin.get("/admin/settings/telegram", htmx=True)

    assert response.status_code == 200
    card = bot_card(response)
    assert "@PhotoChangerTestBot" in card
    assert marked_text(response.text, "data-webhook-url") == "https://old.example/telegram/webhook"
    assert marked_text(response.text, "data-pending-updates") == "3"
    assert marked_text(response.text, "data-last-error").startswith(
        "Wrong response from the webhook: 502 Bad Gateway"
    )
    assert [call.method for call in telegram.calls] == ["getMe", "getWebhookInfo"]
    assert load_settings(db_session, config).telegram_bot_username == BOT_USER["username"]


def test_set_webhook_sends_the_public_url_the_secret_and_the_update_types(
    public_admin, telegram, capfd, caplog
):
    caplog.set_level(logging.DEBUG, logger="urllib3")

    response = public_admin.post("/admin/settings/telegram/webhook", htmx=True)

    assert response.status_code == 200
    (call,) = telegram.calls_of("setWebhook")
    assert (call.http_method, call.content_type) == ("POST", "application/json")
    assert call.params == {
        "url": "https://studio.example/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": list(WEBHOOK_UPDATES),
    }
    assert telegram.webhook.url == "https://studio.example/telegram/webhook"
    assert "The webhook now points at https://studio.example/telegram/webhook." in bot_card(
        response
    )
    assert marked_text(response.text, "data-webhook-url") == telegram.webhook.url
    client_lines = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("urllib3"))
    assert '"POST /bot…/setWebhook HTTP/1.1" 200' in client_lines
    assert TOKEN not in capfd.readouterr().out + client_lines + response.text


@pytest.mark.parametrize("config", [{"telegram_webhook_secret": None}], indirect=True)
def test_set_webhook_without_a_configured_secret_generates_and_stores_one(
    public_admin, telegram, db_session, config
):
    public_admin.post("/admin/settings/telegram/webhook", htmx=True)
    public_admin.post("/admin/settings/telegram/webhook", htmx=True)

    first, second = telegram.calls_of("setWebhook")
    stored = load_settings(db_session, config).telegram_webhook_secret
    assert stored is not None and len(stored) >= 32
    assert first.params["secret_token"] == second.params["secret_token"] == stored
    assert stored not in public_admin.get("/admin/settings/telegram", htmx=True).text


def test_set_webhook_registers_the_command_menu_in_each_language(public_admin, telegram):
    public_admin.post("/admin/settings/telegram/webhook", htmx=True)

    assert sorted(telegram.commands) == ["", "en", "ru"]
    assert telegram.commands["en"][0] == {
        "command": "start",
        "description": "Start and choose a style",
    }
    assert telegram.commands["ru"][0]["description"] == "Начать и выбрать стиль"
    assert telegram.commands[""] == telegram.commands["ru"]


def test_telegram_refusing_the_webhook_url_is_shown_not_a_server_error(admin, telegram):
    response = admin.post("/admin/settings/telegram/webhook", htmx=True)

    assert response.status_code == 200
    assert (
        "Telegram refused: Bad Request: bad webhook: An HTTPS URL must be provided for webhook "
        "(error 400)." in bot_card(response)
    )
    assert telegram.webhook.url == ""


@pytest.mark.parametrize("config", [{"telegram_bot_token": "123456:WRONG-token"}], indirect=True)
def test_a_token_telegram_does_not_know_is_reported(admin):
    response = admin.get("/admin/settings/telegram", htmx=True)

    assert response.status_code == 200
    assert "Telegram does not accept the bot token (TELEGRAM_BOT_TOKEN): Unauthorized" in (
        bot_card(response)
    )
    assert "WRONG-token" not in response.text


@pytest.mark.parametrize(
    "config", [{"telegram_api_base": f"http://127.0.0.1:{free_port()}"}], indirect=True
)
def test_an_unreachable_telegram_is_reported_without_the_token_anywhere(admin, config, capfd):
    response = admin.post("/admin/settings/telegram/webhook", htmx=True)

    assert response.status_code == 200
    assert f"Could not reach Telegram at {config.telegram_api_base}." in bot_card(response)
    captured = capfd.readouterr()
    assert TOKEN not in captured.out + captured.err + response.text


def test_an_answer_that_is_not_the_bot_api_is_reported(admin, telegram):
    telegram.answer_raw("getMe", 502, "<html><body>502 Bad Gateway</body></html>", "text/html")

    response = admin.get("/admin/settings/telegram", htmx=True)

    assert response.status_code == 200
    assert "Telegram's answer was not understood (HTTP 502)." in bot_card(response)
