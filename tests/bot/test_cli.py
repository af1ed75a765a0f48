"""``photochanger telegram set-webhook|delete-webhook|info`` against the fake Bot API, with
DATABASE_URL and with the embedded database."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.cli import main
from app.config import Config
from app.settings.service import load_settings
from tests.support.fakes.telegram import TOKEN, TelegramFake, Webhook

URL = "https://photo.example/telegram/webhook"
UPDATE_TYPES = ["message", "edited_message", "callback_query"]


@pytest.fixture
def run(
    telegram: TelegramFake, database_url: str, media_root: Path, caplog: pytest.LogCaptureFixture
):
    """The command in this process; the fake server's access log (same process) is muted."""
    caplog.set_level(logging.ERROR, logger="werkzeug")

    def invoke(*args: str, **env: str | None) -> Result:
        values: dict[str, str | None] = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
            "TELEGRAM_WEBHOOK_SECRET": None,
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(media_root),
            "LOG_LEVEL": "WARNING",
        }
        return CliRunner().invoke(main, ["telegram", *args], env={**values, **env})

    return invoke


def test_set_webhook_uses_the_configured_secret_and_the_three_update_types(run, telegram):
    result = run(
        "set-webhook", "--url", URL, "--drop-pending", TELEGRAM_WEBHOOK_SECRET="env_S3cret"
    )

    assert result.exit_code == 0, result.output
    (call,) = telegram.calls_of("setWebhook")
    assert call.params == {
        "url": URL,
        "secret_token": "env_S3cret",
        "allowed_updates": UPDATE_TYPES,
        "drop_pending_updates": True,
    }
    assert "Webhook set: https://photo.example/telegram/webhook" in result.output
    assert "Secret token: TELEGRAM_WEBHOOK_SECRET" in result.output
    assert sorted(telegram.commands) == ["", "en", "ru"]


def test_without_a_configured_secret_one_is_generated_once_and_stored(
    run, telegram, db_session, make_config
):
    first = run("set-webhook", "--url", URL)
    second = run("set-webhook", "--url", URL)

    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    stored = load_settings(db_session, make_config()).telegram_webhook_secret
    assert stored is not None
    assert [c.params["secret_token"] for c in telegram.calls_of("setWebhook")] == [stored] * 2
    assert "drop_pending_updates" not in telegram.calls_of("setWebhook")[0].params
    assert stored not in first.output + second.output
    assert "Secret token: stored in the database" in first.output


def test_delete_webhook_removes_it(run, telegram):
    telegram.webhook = Webhook(url=URL, secret_token="x")

    result = run("delete-webhook")

    assert result.exit_code == 0, result.output
    assert telegram.webhook.url == ""
    assert "Webhook deleted." in result.output


def test_info_shows_the_bot_and_its_webhook_readably(run, telegram):
    telegram.webhook = Webhook(
        url=URL,
        allowed_updates=UPDATE_TYPES,
        pending_update_count=2,
        last_error_date=1787390000,
        last_error_message="Wrong response from the webhook: 502 Bad Gateway",
    )

    result = run("info")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Bot:             @PhotoChangerTestBot (id 7712345678, PhotoChanger)"
    assert lines[1] == f"Webhook:         {URL}"
    assert lines[2] == "Pending updates: 2"
    assert lines[3].startswith(
        "Last error:      Wrong response from the webhook: 502 Bad Gateway at 2026-"
    )
    assert lines[4] == "Allowed updates: message, edited_message, callback_query"


def test_telegram_refusing_is_one_line_without_the_token(run, telegram):
    result = run("set-webhook", "--url", "http://plain.example/hook", TELEGRAM_WEBHOOK_SECRET="s")

    assert result.exit_code == 1
    assert "An HTTPS URL must be provided for webhook (error 400)" in result.output
    assert TOKEN not in result.output


def test_without_a_token_the_commands_say_what_is_missing(run):
    result = run("info", TELEGRAM_BOT_TOKEN=None)

    assert result.exit_code == 1
    assert "TELEGRAM_BOT_TOKEN is not set." in result.output


def test_set_webhook_works_with_the_embedded_database(run, telegram, tmp_path):
    media = tmp_path / "site" / "media"
    media.mkdir(parents=True)

    result = run("set-webhook", "--url", URL, DATABASE_URL=None, MEDIA_ROOT=str(media))

    assert result.exit_code == 0, result.output
    assert (Config(media_root=media, _env_file=None).local_state_dir / "pgdata").is_dir()
    (call,) = telegram.calls_of("setWebhook")
    assert len(call.params["secret_token"]) >= 32
