"""Admin pages of the slots domain: the dashboard, the slot form and the slot's template images.

Each change route answers htmx with just the fragment it changed (``render_block``) and a plain
request with the whole page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from htmx_flask import request
from jinja2_fragments.flask import render_block
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from app import context, db
from app.auth.guard import current_admin, require_admin_session
from app.bot.links import telegram_deep_link
from app.config import Config
from app.db import utcnow
from app.providers.keys import ENV_FIELDS, resolve_api_key
from app.providers.local import STYLES
from app.providers.schemas import (
    ASPECT_RATIOS,
    SUGGESTED_MODELS,
    GeminiSettings,
    OpenAISettings,
)
from app.public.links import external_url
from app.settings.service import RuntimeSettings, load_settings
from app.slots.models import OUTPUT_FORMATS, Slot
from app.slots.schemas import (
    MAX_SIDE_RANGE,
    OUTPUT_FORMAT_LABELS,
    PROVIDER_LABELS,
    PROVIDERS,
    STYLE_LABELS,
    TEMPLATE_KIND_LABELS,
    TEMPLATE_KINDS,
    TURBOTEXT_METHOD_LABELS,
    SlotForm,
    SlotUpdate,
    default_settings,
    form_to_payload,
    literal_values,
    localized_errors,
    settings_values,
    slot_values,
)
from app.slots.service import (
    SlotInvalid,
    SlotNotFound,
    VersionConflict,
    check_settings,
    find_slot,
    slot_status,
    update_slot,
)
from app.slots.template_media import (
    MAX_TEMPLATE_BYTES,
    MAX_TEMPLATES,
    TemplateNotFound,
    TemplateRejected,
    add_template,
    find_template,
    remove_template,
    thumbnail_file,
)
from app.stats.service import SlotStats, slot_stats

bp = Blueprint("slots", __name__, url_prefix="/admin")
bp.before_request(require_admin_session)

STATS_WINDOW = timedelta(hours=24)
PAGE = "slots/page.html"


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
JOB_STATUS_LABELS = {
    "pending": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "timeout": _l("timed out"),
    "interrupted": _l("interrupted"),
}


@bp.context_processor
def labels() -> dict[str, Any]:
    return {
        "slot_status_labels": SLOT_STATUS_LABELS,
        "slot_status_hints": SLOT_STATUS_HINTS,
        "job_status_labels": JOB_STATUS_LABELS,
    }


@dataclass(frozen=True)
class DashboardRow:
    slot: Slot
    stats: SlotStats | None
    status: str
    ingest_url: str

    @property
    def provider_label(self) -> str:
        return str(PROVIDER_LABELS.get(self.slot.provider, self.slot.provider))

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


def ingest_url(slot_id: str) -> str:
    """The booth's URL (``/ingest/<slot_id>``, not the ``/api/ingest`` alias)."""
    return external_url("ingest.ingest", slot_id=slot_id)


def key_missing(config: Config, runtime: RuntimeSettings, provider: str) -> bool:
    return provider in ENV_FIELDS and resolve_api_key(config, runtime, provider) is None


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
        )
        for slot in slots
    ]


def slot_or_404(session: Session, slot_id: str) -> Slot:
    try:
        return find_slot(session, slot_id)
    except SlotNotFound:
        abort(404, description=_("There is no slot %(slot_id)s.", slot_id=slot_id))


@bp.get("/")
def dashboard() -> str:
    session = db.session()
    slots = list(session.scalars(select(Slot).order_by(Slot.slot_id)))
    return render_template("slots/dashboard.html", rows=dashboard_rows(session, slots))


@bp.post("/slots/<slot_id>/active")
def toggle_active(slot_id: str) -> str:
    """The dashboard's switch: a real save of the slot (version and author change)."""
    session = db.session()
    changes = SlotUpdate(is_active="is_active" in request.form)
    try:
        slot = update_slot(session, context.config(), slot_id, changes, current_admin())
    except SlotNotFound:
        abort(404)
    return render_template("slots/_dashboard_row.html", row=dashboard_rows(session, [slot])[0])


def form_choices() -> dict[str, Any]:
    return {
        "providers": [(p, PROVIDER_LABELS[p]) for p in PROVIDERS],
        "styles": [(s, STYLE_LABELS.get(s, s)) for s in STYLES],
        "models": SUGGESTED_MODELS,
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


def page_context(slot: Slot, form: SlotForm, **extra: Any) -> dict[str, Any]:
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
        "telegram_link": telegram_deep_link(runtime.telegram_bot_username, slot.slot_id),
        "max_upload_mb": config.max_upload_mb,
        "choices": form_choices(),
        "template_error": None,
        "version_changed": False,
        **extra,
    }


def render_form(slot: Slot, form: SlotForm, status: int = 200) -> tuple[str, int]:
    ctx = page_context(slot, form)
    if request.htmx:
        return render_block(PAGE, "slot_form", **ctx), status
    return render_template(PAGE, **ctx), status


@bp.get("/slots/<slot_id>")
def slot_page(slot_id: str) -> str:
    slot = slot_or_404(db.session(), slot_id)
    return render_template(PAGE, **page_context(slot, SlotForm(slot_values(slot))))


@bp.post("/slots/<slot_id>")
def save_slot(slot_id: str) -> tuple[str, int]:
    """Save the slot form. 422 keeps what was typed with errors by field; 409 when someone else
    saved the slot since this form was loaded, and nothing is overwritten."""
    session = db.session()
    slot = slot_or_404(session, slot_id)
    payload, errors = form_to_payload(request.form)
    try:
        changes = SlotUpdate.model_validate(payload, strict=False)
    except ValidationError as invalid:
        errors = {**localized_errors(invalid), **errors}
    if payload["provider"] in PROVIDERS:
        errors = {**check_settings(payload["provider"], payload["settings"])[1], **errors}
    if errors:
        return render_form(slot, SlotForm.typed(request.form, errors=errors), 422)
    try:
        slot = update_slot(session, context.config(), slot_id, changes, current_admin())
    except VersionConflict as conflict:
        return render_form(slot, SlotForm.typed(request.form, conflict=conflict), 409)
    except SlotInvalid as invalid:
        return render_form(slot, SlotForm.typed(request.form, errors=invalid.errors), 422)
    return render_form(slot, SlotForm(slot_values(slot), saved=True))


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
    ctx = page_context(slot, SlotForm({"provider": provider, **values}))
    return render_template("slots/_provider_fields.html", **ctx)


def render_templates(
    slot: Slot, error: str | None = None, status: int = 200, version_changed: bool = False
) -> tuple[str, int] | BaseResponse:
    if not request.htmx:
        if error is None:
            return redirect(url_for("slots.slot_page", slot_id=slot.slot_id), 303)
        ctx = page_context(slot, SlotForm(slot_values(slot)), template_error=error)
        return render_template(PAGE, **ctx), status
    ctx = page_context(
        slot, SlotForm(slot_values(slot)), template_error=error, version_changed=version_changed
    )
    return render_block(PAGE, "templates", **ctx), status


def follows_form(slot: Slot) -> bool:
    """Whether the page's form had the version just before this template change, so its hidden
    version may move on with it (a form older than that must still get the 409)."""
    return bool(request.form.get("version") == str(slot.version - 1))


@bp.post("/slots/<slot_id>/templates")
def upload_template(slot_id: str) -> tuple[str, int] | BaseResponse:
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
def delete_template(slot_id: str, media_id: str) -> tuple[str, int] | BaseResponse:
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
    path, mime = thumbnail_file(context.media_store(), template)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=mime, conditional=True, etag=True)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
