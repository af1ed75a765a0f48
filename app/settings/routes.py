"""Admin settings page: one card per topic, each a small form saved on its own.

Every POST answers with its card re-rendered (htmx swaps it in) or, without JavaScript, with the
whole page showing that card's outcome. Invalid input comes back as 422 with the typed values
and a message next to each field; secrets (passwords, keys) are never echoed.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from flask import Blueprint, Response, abort
from flask_babel import gettext as _
from htmx_flask import request
from pydantic import ValidationError
from telebot import TeleBot

from app import context, db
from app.auth.guard import current_admin, require_admin_session
from app.auth.passwords import generate_password
from app.bot.admin import (
    ADMIN_CALL_SECONDS,
    WEBHOOK_PATH,
    BotStatus,
    check_bot,
    configured_secret,
    ensure_secret,
)
from app.bot.admin import set_webhook as point_webhook
from app.bot.client import Failure, TelegramError, connected
from app.config import Config
from app.db import utcnow
from app.deadline import Deadline
from app.forms import FormState
from app.headers import no_store
from app.htmx import render_page
from app.ops.cleanup import run_cleanup
from app.providers.base import KeyCheck, request_outbound
from app.providers.keys import key_status, resolve_api_key, store_api_key
from app.providers.registry import KEY_PROVIDERS, PROVIDERS, get_provider
from app.settings.schemas import (
    FIELD_WORDING,
    GalleryShareRequest,
    ProviderKeyOut,
    ProviderKeysUpdate,
    SettingsUpdate,
    admin_ids_from_text,
    number_bounds,
)
from app.settings.service import (
    RuntimeSettings,
    load_settings,
    save_settings,
    set_ingest_password,
    share_gallery,
    shared_gallery_until,
)
from app.urls import external_base_url, public_gallery_url
from app.validation import field_messages

bp = Blueprint("settings", __name__, url_prefix="/admin")
bp.after_request(no_store)
bp.before_request(require_admin_session)

log = structlog.get_logger(__name__)

PAGE = "settings/page.html"
PROCESSING_FIELDS = (
    "sync_response_seconds",
    "result_ttl_hours",
    "dedupe_window_minutes",
    "slot_concurrency",
    "provider_concurrency",
)
LIMITS_FIELDS = ("telegram_daily_limit", "telegram_admin_ids")
KEY_CHECK_SECONDS = 10.0
DEFAULT_SHARE_MINUTES = GalleryShareRequest.model_fields["minutes"].default


@dataclass(frozen=True)
class TelegramView:
    configured: bool
    webhook_url: str
    secret_set: bool
    loaded: bool = False
    bot: BotStatus | None = None
    message: str | None = None
    error: str | None = None


@bp.get("/settings")
def page() -> Response:
    return _render("content")


@bp.post("/settings/password")
def set_password() -> Response:
    password = request.form.get("password", "")
    try:
        SettingsUpdate.model_validate({"ingest_password": password}, strict=False)
    except ValidationError as error:
        return _render(
            "password", 422, password=FormState(errors=field_messages(error, wording=FIELD_WORDING))
        )
    set_ingest_password(db.session(), context.config(), password, current_admin())
    return _render("password", password=FormState(message=_("The ingest password was changed.")))


@bp.post("/settings/password/generate")
def generate_ingest_password() -> Response:
    password = generate_password()
    set_ingest_password(db.session(), context.config(), password, current_admin())
    message = _("A new ingest password was generated. Note it now: it is not shown again.")
    return _render("password", password=FormState(message=message), generated_password=password)


@bp.post("/settings/processing")
def save_processing() -> Response:
    typed = {name: request.form.get(name, "") for name in PROCESSING_FIELDS}
    return _save_fields("processing", typed, typed)


@bp.post("/settings/telegram/limits")
def save_telegram_limits() -> Response:
    typed = {name: request.form.get(name, "") for name in LIMITS_FIELDS}
    values = {**typed, "telegram_admin_ids": admin_ids_from_text(typed["telegram_admin_ids"])}
    return _save_fields("telegram_limits", values, typed)


@bp.post("/settings/keys/<provider>")
def save_key(provider: str) -> Response:
    _known_provider(provider)
    api_key = request.form.get("api_key", "").strip()
    try:
        ProviderKeysUpdate.model_validate({provider: api_key}, strict=False)
    except ValidationError as error:
        message = field_messages(error, wording=FIELD_WORDING)[provider]
        return _render_key(provider, FormState(errors={"api_key": message}), 422)
    store_api_key(db.session(), context.config(), provider, api_key, current_admin())
    return _render_key(provider, FormState(message=_("The key was saved.")))


@bp.post("/settings/keys/<provider>/clear")
def clear_key(provider: str) -> Response:
    _known_provider(provider)
    store_api_key(db.session(), context.config(), provider, None, current_admin())
    return _render_key(provider, FormState(message=_("The stored key was removed.")))


@bp.post("/settings/keys/<provider>/check")
def check_key(provider: str) -> Response:
    _known_provider(provider)
    config = context.config()
    api_key = resolve_api_key(config, load_settings(db.session(), config), provider)
    driver = get_provider(provider, config, api_key, request_outbound())
    outcome = driver.check_key(Deadline.after(KEY_CHECK_SECONDS))
    log.info("settings.key_checked", provider=provider, outcome=str(outcome))
    if outcome is KeyCheck.OK:
        return _render_key(provider, FormState(message=_("The provider accepted the key.")))
    errors = {
        KeyCheck.INVALID: _("The provider refused the key: it is wrong, revoked or lacks access."),
        KeyCheck.UNREACHABLE: _("Could not reach the provider to check the key; try again."),
        KeyCheck.MISSING: _("No key is configured."),
    }
    return _render_key(provider, FormState(error=errors[outcome]))


@bp.get("/settings/telegram")
def telegram_status() -> Response:
    return _render_telegram()


@bp.post("/settings/telegram/webhook")
def set_webhook() -> Response:
    config = context.config()
    if not config.telegram_bot_token:
        return _render_telegram(error=_("No bot token is configured."))
    url = _webhook_url()
    try:
        with _telegram_bot(config) as bot:
            point_webhook(bot, url, ensure_secret(db.session(), config, current_admin()))
    except TelegramError as failure:
        return _render_telegram(error=_telegram_message(failure, config))
    log.info("settings.webhook_set", updated_by=current_admin())
    return _render_telegram(message=_("The webhook now points at %(url)s.", url=url))


@bp.post("/settings/gallery")
def share_public_gallery() -> Response:
    minutes = request.form.get("minutes", "")
    try:
        share = GalleryShareRequest.model_validate({"minutes": minutes}, strict=False)
    except ValidationError as error:
        typed = FormState(
            values={"minutes": minutes}, errors=field_messages(error, wording=FIELD_WORDING)
        )
        return _render("gallery", 422, gallery=typed)
    until = utcnow() + timedelta(minutes=share.minutes)
    share_gallery(db.session(), context.config(), until, current_admin())
    message = _("The public gallery is open for %(minutes)d minutes.", minutes=share.minutes)
    return _render("gallery", gallery=FormState(values={"minutes": share.minutes}, message=message))


@bp.post("/settings/gallery/stop")
def stop_sharing() -> Response:
    share_gallery(db.session(), context.config(), None, current_admin())
    return _render("gallery", gallery=_gallery_section(_("The public gallery is closed.")))


@bp.post("/settings/cleanup")
def cleanup_now() -> Response:
    try:
        summary = run_cleanup(db.session(), context.media_store(), now=utcnow())
    except OSError:
        log.exception("settings.cleanup_failed")
        failed = FormState(error=_("The cleanup failed; the error was logged."))
        return _render("cleanup", cleanup=failed)
    log.info("settings.cleanup", updated_by=current_admin(), **summary.log_fields())
    return _render("cleanup", summary=summary)


def _save_fields(block: str, values: dict[str, Any], typed: dict[str, str]) -> Response:
    try:
        update = SettingsUpdate.model_validate(values, strict=False)
    except ValidationError as error:
        invalid: dict[str, Any] = {
            block: FormState(values=typed, errors=field_messages(error, wording=FIELD_WORDING))
        }
        return _render(block, 422, **invalid)
    config = context.config()
    runtime = save_settings(db.session(), config, update.plain_changes(), current_admin())
    saved: dict[str, Any] = {block: FormState(_form_values(runtime), message=_("Saved."))}
    return _render(block, **saved)


def _render_key(provider: str, outcome: FormState, status: int = 200) -> Response:
    return _render("provider_key", status, provider=provider, key_feedback={provider: outcome})


def _render_telegram(message: str | None = None, error: str | None = None) -> Response:
    config = context.config()
    status = None
    if config.telegram_bot_token:
        try:
            with _telegram_bot(config) as bot:
                status = check_bot(db.session(), config, bot, current_admin())
        except TelegramError as failure:
            error = error or _telegram_message(failure, config)
    view = _telegram_view(config, loaded=True, bot=status, message=message, error=error)
    return _render("telegram_bot", telegram=view)


def _render(block: str, status: int = 200, **section: Any) -> Response:
    """The whole page for a plain request, only ``block`` for htmx; ``section`` overrides the
    page's defaults for the card that was acted on."""
    config = context.config()
    values = {**_page_context(load_settings(db.session(), config), config), **section}
    return render_page(PAGE, block, status, **values)


def _page_context(runtime: RuntimeSettings, config: Config) -> dict[str, Any]:
    return {
        "runtime": runtime,
        "bounds": number_bounds(),
        "password": FormState(),
        "generated_password": None,
        "processing": FormState(_form_values(runtime)),
        "telegram_limits": FormState(_form_values(runtime)),
        "key_providers": KEY_PROVIDERS,
        "provider_labels": {name: spec.label for name, spec in PROVIDERS.items()},
        "env_names": {name: spec.env_name for name, spec in PROVIDERS.items()},
        "key_statuses": {
            provider: ProviderKeyOut.model_validate(status)
            for provider, status in key_status(config, runtime).items()
        },
        "key_feedback": {},
        "telegram": _telegram_view(config),
        "gallery": _gallery_section(),
        "shared_until": shared_gallery_until(runtime, utcnow()),
        "pubgallery_url": public_gallery_url(),
        "cleanup": FormState(),
        "summary": None,
    }


def _form_values(runtime: RuntimeSettings) -> dict[str, Any]:
    values = runtime.model_dump(include={*PROCESSING_FIELDS, *LIMITS_FIELDS})
    values["telegram_admin_ids"] = ", ".join(str(i) for i in runtime.telegram_admin_ids)
    return values


def _gallery_section(message: str | None = None) -> FormState:
    return FormState({"minutes": DEFAULT_SHARE_MINUTES}, message=message)


def _known_provider(provider: str) -> None:
    if provider not in KEY_PROVIDERS:
        abort(404)


def _telegram_bot(config: Config) -> AbstractContextManager[TeleBot]:
    return connected(config, request_outbound().http, Deadline.after(ADMIN_CALL_SECONDS))


def _telegram_view(config: Config, **state: Any) -> TelegramView:
    return TelegramView(
        configured=bool(config.telegram_bot_token),
        webhook_url=_webhook_url(),
        secret_set=configured_secret(db.session(), config) is not None,
        **state,
    )


def _webhook_url() -> str:
    return external_base_url() + WEBHOOK_PATH


def _telegram_message(failure: TelegramError, config: Config) -> str:
    message: str
    if failure.failure in (Failure.UNREACHABLE, Failure.TIMEOUT):
        message = _("Could not reach Telegram at %(base)s.", base=config.telegram_api_base)
    elif failure.failure is Failure.BAD_ANSWER:
        message = _(
            "Telegram's answer was not understood (HTTP %(status)s).", status=failure.error_code
        )
    elif failure.error_code in (401, 404):
        message = _(
            "Telegram does not accept the bot token (TELEGRAM_BOT_TOKEN): %(description)s",
            description=failure.description,
        )
    else:
        message = _(
            "Telegram refused: %(description)s (error %(code)s).",
            description=failure.description,
            code=failure.error_code,
        )
    return message
