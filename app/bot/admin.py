"""What the admin does with the bot (Settings page and CLI): who it is, where its webhook points,
pointing the webhook here with the secret, and the command menus in both languages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session
from telebot import TeleBot, types

from app.bot.client import WEBHOOK_UPDATES, Failure, TelegramError
from app.config import Config
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES
from app.settings.service import load_settings, save_settings

ADMIN_CALL_SECONDS = 10.0
WEBHOOK_PATH = "/telegram/webhook"


class BotUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    is_bot: bool
    first_name: str
    username: str


class WebhookInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str
    has_custom_certificate: bool = False
    pending_update_count: int = 0
    ip_address: str | None = None
    last_error_date: datetime | None = None
    last_error_message: str | None = None
    max_connections: int | None = None
    allowed_updates: list[str] | None = None


@dataclass(frozen=True)
class BotStatus:
    username: str
    webhook: WebhookInfo


def bot_user(bot: TeleBot) -> BotUser:
    try:
        return BotUser.model_validate(vars(bot.get_me()))
    except (KeyError, TypeError, ValueError, ValidationError):
        raise TelegramError(Failure.BAD_ANSWER) from None


def webhook_info(bot: TeleBot) -> WebhookInfo:
    try:
        return WebhookInfo.model_validate(vars(bot.get_webhook_info()))
    except (KeyError, TypeError, ValueError, ValidationError):
        raise TelegramError(Failure.BAD_ANSWER) from None


def check_bot(session: Session, config: Config, bot: TeleBot, updated_by: str) -> BotStatus:
    """Ask Telegram who the bot is and where its webhook points; remembers the bot's username,
    which the deep links need. Raises ``TelegramError``."""
    username = bot_user(bot).username
    remember_username(session, config, username, updated_by)
    return BotStatus(username, webhook_info(bot))


def remember_username(session: Session, config: Config, username: str, updated_by: str) -> None:
    if load_settings(session, config).telegram_bot_username != username:
        save_settings(session, config, {"telegram_bot_username": username}, updated_by)


def configured_secret(session: Session, config: Config) -> str | None:
    """The secret Telegram must send with each update: TELEGRAM_WEBHOOK_SECRET, else the one
    generated and stored when the webhook was set."""
    return config.telegram_webhook_secret or load_settings(session, config).telegram_webhook_secret


def ensure_secret(session: Session, config: Config, updated_by: str) -> str:
    """The configured secret, generated (256 random bits) and stored on first use."""
    secret = configured_secret(session, config)
    if secret is None:
        secret = secrets.token_urlsafe(32)
        save_settings(session, config, {"telegram_webhook_secret": secret}, updated_by)
    return secret


def set_webhook(bot: TeleBot, url: str, secret: str, drop_pending: bool = False) -> None:
    """Point Telegram at ``url`` with the secret and the update types the bot handles, then
    register the command menus. Raises ``TelegramError``."""
    bot.set_webhook(
        url=url,
        secret_token=secret,
        allowed_updates=list(WEBHOOK_UPDATES),
        drop_pending_updates=True if drop_pending else None,
    )
    register_commands(bot)


def delete_webhook(bot: TeleBot, drop_pending: bool = False) -> None:
    bot.delete_webhook(drop_pending_updates=True if drop_pending else None)


def register_commands(bot: TeleBot) -> None:
    """The command menu in each language; Telegram shows the default one (Russian) to users
    whose app language has none."""
    for language in (None, *LANGUAGES):
        with force_locale(language or DEFAULT_LANGUAGE):
            commands = [types.BotCommand(name, description) for name, description in command_menu()]
        bot.set_my_commands(commands, language_code=language)


def command_menu() -> list[tuple[str, str]]:
    return [
        ("start", _("Start and choose a style")),
        ("styles", _("Choose a style")),
        ("status", _("Photos left today and the last result")),
        ("lang", _("Language")),
        ("help", _("How it works")),
    ]
