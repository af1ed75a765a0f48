"""Admin pages of the slots domain: the dashboard, the slot form and the slot's template images.

Each change route answers htmx with just the fragment it changed and a plain request with the
whole page (``app.htmx.render_page``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from htmx_flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from app import context, db
from app.auth.guard import current_admin, require_admin_session
from app.config import Config
from app.db import utcnow
from app.forms import FormState
from app.htmx import render_page, wants_fragment
from app.media.delivery import send_media
from app.providers.keys import resolve_api_key
from app.providers.local import STYLES
from app.providers.registry import KEY_PROVIDERS, PROVIDERS, provider_label
from app.providers.schemas import ASPECT_RATIOS, GeminiSettings, OpenAISettings
from app.settings.service import RuntimeSettings, load_settings
from app.slots.errors import (
    SlotInvalid,
    SlotNotFound,
    TemplateNotFound,
    TemplateRejected,
    VersionConflict,
)
from app.slots.models import OUTPUT_FORMATS, Slot
from app.slots.schemas import (
    CHECKBOXES,
    MAX_SIDE_RANGE,
    OUTPUT_FORMAT_LABELS,
    STYLE_LABELS,
    TEMPLATE_KIND_LABELS,
    TEMPLATE_KINDS,
    TURBOTEXT_METHOD_LABELS,
    default_settings,
    form_to_payload,
    literal_values,
    settings_values,
    slot_values,
)
from app.slots.service import slot_or_404, update_slot
from app.slots.template_media import (
    MAX_TEMPLATE_BYTES,
    MAX_TEMPLATES,
    add_template,
    find_template,
    remove_template,
    thumbnail_file,
)
from app.stats.slots import SlotStats, slot_stats, slot_status
from app.urls import ingest_url, telegram_slot_link

bp = Blueprint("slots", __name__, url_prefix="/admin")
bp.before_request(require_admin_session)

STATS_WINDOW = timedelta(hours=24)
PAGE = "slots/page.html"
FIELD_ID_PREFIX = "f-"


SLOT_STATUS_LABELS = {
    "ready": _l("ready"),
    "key_missing": _l("key missing"),
    "failing": _l("failing"),
    "off": _l("off"),
}
SLOT_STATUS_HINTS = {
    "ready": _l("Active, and its recent jobs mostly succeed."),
    "key_missing": _l("The provider needs an API key; set it in Settings."),
    "failing": _l("Its last job failed, or most of its jobs in the last 24 hours failed."),
    "off": _l("Switched off: booth uploads are refused."),
}


@bp.context_processor
def labels() -> dict[str, Any]:
    return {
        "slot_status_labels": SLOT_STATUS_LABELS,
        "slot_status_hints": SLOT_STATUS_HINTS,
    }


@dataclass(frozen=True)
class DashboardRow:
    slot: Slot
    stats: SlotStats | None
    status: str
    ingest_url: str
    telegram_link: str | None
    """The bot's deep link that preselects this slot, when the bot is configured."""

    @property
    def provider_label(self) -> str:
        return provider_label(self.slot.provider)

    @property
    def provider_detail(self) -> str:
        """The model, or the local style or turbotext method, that the slot uses."""
        settings = self.slot.settings
        if "model" in settings:
            return str(settings["model"])
        if "style" in settings:
            return str(STYLE_LABELS.get(settings["style"], settings["style"]))
        method = settings.get("method", "")
        return str(TURBOTEXT_METHOD_LABELS.get(method, method))


def key_missing(config: Config, runtime: RuntimeSettings, provider: str) -> bool:
    return provider in KEY_PROVIDERS and resolve_api_key(config, runtime, provider) is None


def dashboard_rows(session: Session, slots: list[Slot]) -> list[DashboardRow]:
    config = context.config()
    runtime = load_settings(session, config)
    now = utcnow()
    since = now - STATS_WINDOW
    stats = slot_stats(session, since, now)
    missing = {p: key_missing(config, runtime, p) for p in {s.provider for s in slots}}
    return [
        DashboardRow(
            slot=slot,
            stats=stats.get(slot.slot_id),
            status=slot_status(slot, stats.get(slot.slot_id), missing[slot.provider], since),
            ingest_url=ingest_url(slot.slot_id),
            telegram_link=telegram_slot_link(runtime.telegram_bot_username, slot.slot_id),
        )
        for slot in slots
    ]


@bp.get("/")
def dashboard() -> str:
    session = db.session()
    slots = list(session.scalars(select(Slot).order_by(Slot.slot_id)))
    return render_template("slots/dashboard.html", rows=dashboard_rows(session, slots))


@bp.post("/slots/<slot_id>/active")
def toggle_active(slot_id: str) -> str:
    """The dashboard's switch: a real save of the slot (version and author change)."""
    session = db.session()
    change = {"is_active": "is_active" in request.form}
    max_upload_mb = context.config().max_upload_mb
    try:
        slot = update_slot(session, slot_id, change, current_admin(), max_upload_mb=max_upload_mb)
    except SlotNotFound:
        abort(404)
    return render_template("slots/_dashboard_row.html", row=dashboard_rows(session, [slot])[0])


def form_choices() -> dict[str, Any]:
    return {
        "providers": [(name, spec.label) for name, spec in PROVIDERS.items()],
        "styles": [(s, STYLE_LABELS.get(s, s)) for s in STYLES],
        "models": {name: spec.suggested_models for name, spec in PROVIDERS.items()},
        "aspect_ratios": ASPECT_RATIOS,
        "gemini_image_sizes": literal_values(GeminiSettings, "image_size"),
        "turbotext_methods": list(TURBOTEXT_METHOD_LABELS.items()),
        "openai_sizes": literal_values(OpenAISettings, "size"),
        "openai_qualities": literal_values(OpenAISettings, "quality"),
        "openai_fidelities": literal_values(OpenAISettings, "input_fidelity"),
        "output_formats": [(f, OUTPUT_FORMAT_LABELS[f]) for f in OUTPUT_FORMATS],
        "template_kinds": [(k, TEMPLATE_KIND_LABELS[k]) for k in TEMPLATE_KINDS],
        "template_kind_labels": TEMPLATE_KIND_LABELS,
        "max_side_range": MAX_SIDE_RANGE,
        "max_templates": MAX_TEMPLATES,
        "max_template_mb": MAX_TEMPLATE_BYTES // 2**20,
    }


def slot_form(slot: Slot, **state: Any) -> FormState:
    """The slot form filled from the saved slot."""
    return FormState(slot_values(slot), id_prefix=FIELD_ID_PREFIX, **state)


def typed_form(**state: Any) -> FormState:
    """The slot form as the admin submitted it."""
    return FormState.typed(request.form, CHECKBOXES, id_prefix=FIELD_ID_PREFIX, **state)


def page_context(slot: Slot, form: FormState, **extra: Any) -> dict[str, Any]:
    session = db.session()
    config = context.config()
    runtime = load_settings(session, config)
    provider = form.value("provider")
    if provider not in PROVIDERS:
        provider = slot.provider
    return {
        "slot": slot,
        "form": form,
        "provider": provider,
        "key_missing": key_missing(config, runtime, provider),
        "ingest_url": ingest_url(slot.slot_id),
        "telegram_link": telegram_slot_link(runtime.telegram_bot_username, slot.slot_id),
        "max_upload_mb": config.max_upload_mb,
        "choices": form_choices(),
        "conflict": None,
        "template_error": None,
        "version_changed": False,
        **extra,
    }


def render_form(slot: Slot, form: FormState, status: int = 200, **extra: Any) -> Response:
    return render_page(PAGE, "slot_form", status, **page_context(slot, form, **extra))


@bp.get("/slots/<slot_id>")
def slot_page(slot_id: str) -> Response:
    slot = slot_or_404(db.session(), slot_id)
    return render_form(slot, slot_form(slot))


@bp.post("/slots/<slot_id>")
def save_slot(slot_id: str) -> Response:
    """Save the slot form. 422 keeps what was typed with errors by field; 409 when someone else
    saved the slot since this form was loaded, and nothing is overwritten."""
    session = db.session()
    slot = slot_or_404(session, slot_id)
    payload, unreadable = form_to_payload(request.form)
    try:
        slot = update_slot(
            session,
            slot_id,
            payload,
            current_admin(),
            max_upload_mb=context.config().max_upload_mb,
            lenient=True,
            unreadable=unreadable,
        )
    except VersionConflict as conflict:
        return render_form(slot, typed_form(), 409, conflict=conflict.current)
    except SlotInvalid as invalid:
        return render_form(slot, typed_form(errors=invalid.errors), 422)
    saved = _("Saved. This is version %(version)s.", version=slot.version)
    return render_form(slot, slot_form(slot, message=saved))


@bp.get("/slots/<slot_id>/provider-fields")
def provider_fields(slot_id: str) -> str:
    """The settings fields of another provider (or turbotext method), filled with its defaults;
    the page's script carries over what was typed."""
    slot = slot_or_404(db.session(), slot_id)
    provider = request.args.get("provider", slot.provider)
    if provider not in PROVIDERS:
        abort(404)
    settings = slot.settings if provider == slot.provider else default_settings(provider)
    values = settings_values(settings)
    method = request.args.get("settings.method")
    if provider == "turbotext" and method:
        values["settings.method"] = method
    form = FormState({"provider": provider, **values}, id_prefix=FIELD_ID_PREFIX)
    return render_template("slots/_provider_fields.html", **page_context(slot, form))


def render_templates(
    slot: Slot, error: str | None = None, status: int = 200, version_changed: bool = False
) -> BaseResponse:
    """The template list after a change: for htmx the list alone (moving the form's version on
    when it followed), else the whole page, or a redirect to it when the change worked."""
    fragment = wants_fragment()
    if error is None and not fragment:
        return redirect(url_for("slots.slot_page", slot_id=slot.slot_id), 303)
    ctx = page_context(
        slot, slot_form(slot), template_error=error, version_changed=version_changed and fragment
    )
    return render_page(PAGE, "templates", status, **ctx)


def follows_form(slot: Slot) -> bool:
    """Whether the page's form had the version just before this template change, so its hidden
    version may move on with it (a form older than that must still get the 409)."""
    return bool(request.form.get("version") == str(slot.version - 1))


@bp.post("/slots/<slot_id>/templates")
def upload_template(slot_id: str) -> BaseResponse:
    session = db.session()
    slot = slot_or_404(session, slot_id)
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        message = _("The file is larger than %(num)s MB.", num=MAX_TEMPLATE_BYTES // 2**20)
        return render_templates(slot, message, 413)
    if upload is None or not upload.filename:
        return render_templates(slot, _("Choose an image file."), 422)
    try:
        add_template(
            session,
            context.media_store(),
            slot_id,
            upload.stream,
            request.form.get("kind", "style"),
            context.config().max_image_pixels,
            current_admin(),
        )
    except TemplateRejected as rejected:
        return render_templates(slot, rejected.message, rejected.status)
    return render_templates(slot, version_changed=follows_form(slot))


@bp.post("/slots/<slot_id>/templates/<media_id>/delete")
@bp.delete("/slots/<slot_id>/templates/<media_id>")
def delete_template(slot_id: str, media_id: str) -> BaseResponse:
    session = db.session()
    slot = slot_or_404(session, slot_id)
    try:
        remove_template(session, context.media_store(), slot_id, media_id, current_admin())
    except TemplateNotFound:
        return render_templates(slot, _("This template was already removed."), 404)
    return render_templates(slot, version_changed=follows_form(slot))


@bp.get("/slots/<slot_id>/templates/<media_id>")
def template_image(slot_id: str, media_id: str) -> Response:
    """A template's thumbnail, for admins only."""
    try:
        template = find_template(db.session(), slot_id, media_id)
    except TemplateNotFound:
        abort(404)
    store = context.media_store()
    path, mime = thumbnail_file(store, template)
    if not path.is_file():
        abort(404)
    response = send_media(store, path, mime, context.config().media_accel_redirect)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
