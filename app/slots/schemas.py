"""What a slot looks like to the API and the slot form, and how a change to it is validated.

``SlotUpdate`` is the one change model: the API's PUT body, the slot form (after
``form_to_payload``) and test-run overrides all validate through it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from werkzeug.datastructures import MultiDict

from app.providers.schemas import SETTINGS_MODELS
from app.slots.models import OUTPUT_FORMATS, Slot

if TYPE_CHECKING:
    from app.slots.service import VersionConflict

PROVIDERS = ("local", "gemini", "turbotext", "openai")
TEMPLATE_KINDS = ("style", "background", "face", "other")
MAX_SIDE_RANGE = (256, 4096)

Label = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
TelegramLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")
]
IngestPassword = Annotated[
    str, StringConstraints(min_length=4, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
]


class ChangeModel(BaseModel):
    """Strict JSON types (``0`` is not ``false``); the slot form validates with ``strict=False``
    because a form's values are all strings."""

    model_config = ConfigDict(extra="forbid", strict=True)


class OutputUpdate(ChangeModel):
    format: Literal[OUTPUT_FORMATS] | None = None  # type: ignore[valid-type]
    quality: int | None = Field(None, ge=1, le=100)
    max_side: int | None = Field(None, ge=MAX_SIDE_RANGE[0], le=MAX_SIDE_RANGE[1])


class TelegramUpdate(ChangeModel):
    enabled: bool | None = None
    label: TelegramLabel | None = None


class SlotUpdate(ChangeModel):
    """Any subset of a slot's fields. ``ingest_password``: a string sets it, ``null`` clears it;
    ``version``, when sent, must be the slot's current version."""

    display_name: Label | None = None
    is_active: bool | None = None
    provider: Literal[PROVIDERS] | None = None  # type: ignore[valid-type]
    settings: dict[str, Any] | None = None
    output: OutputUpdate | None = None
    size_limit_mb: int | None = Field(None, ge=1, le=200)
    """At most the server's MAX_UPLOAD_MB (checked by ``update_slot``; 200 is its own bound)."""
    ingest_password: IngestPassword | None = None
    public_gallery: bool | None = None
    telegram: TelegramUpdate | None = None
    version: int | None = Field(None, ge=1)


class OutputOut(BaseModel):
    format: str
    quality: int
    max_side: int


class TelegramOut(BaseModel):
    enabled: bool
    label: str | None


class TemplateMediaOut(BaseModel):
    media_id: str
    kind: str
    mime: str
    width: int
    height: int
    size_bytes: int
    preview_url: str


class SlotOut(BaseModel):
    slot_id: str
    display_name: str
    is_active: bool
    provider: str
    settings: dict[str, Any]
    output: OutputOut
    size_limit_mb: int
    ingest_password_set: bool
    public_gallery: bool
    telegram: TelegramOut
    template_media: list[TemplateMediaOut]
    version: int
    updated_at: datetime
    updated_by: str | None


class SlotList(BaseModel):
    slots: list[SlotOut]


def localized_errors(error: ValidationError, prefix: str = "") -> dict[str, str]:
    """Pydantic's errors as ``{dotted field: message in the admin's language}``."""
    errors: dict[str, str] = {}
    for detail in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in (prefix, *detail["loc"]) if part != "")
        errors.setdefault(
            path or "form", error_message(detail["type"], detail.get("ctx") or {}, detail["msg"])
        )
    return errors


SIMPLE_MESSAGES = {
    "missing": _l("This field is required."),
    "string_pattern_mismatch": _l("Contains characters that are not allowed."),
    "int_parsing": _l("Enter a whole number."),
    "int_from_float": _l("Enter a whole number."),
    "int_type": _l("Enter a whole number."),
    "float_parsing": _l("Enter a number."),
    "float_type": _l("Enter a number."),
    "bool_parsing": _l("Choose yes or no."),
    "bool_type": _l("Choose yes or no."),
    "literal_error": _l("Choose one of the offered values."),
    "extra_forbidden": _l("This field is not accepted here."),
    "dict_type": _l("Enter an object."),
    "list_type": _l("Enter a list."),
}


def error_message(kind: str, ctx: dict[str, Any], fallback: str) -> str:
    """Pydantic's common error types in the admin's language; others as pydantic words them."""
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        kind = "missing"
    if kind in SIMPLE_MESSAGES:
        return str(SIMPLE_MESSAGES[kind])
    if kind == "string_too_short":
        message = _("Enter at least %(num)s characters.", num=ctx["min_length"])
    elif kind == "string_too_long":
        message = _("Enter at most %(num)s characters.", num=ctx["max_length"])
    elif kind in ("greater_than_equal", "greater_than"):
        message = _("Must be at least %(num)s.", num=ctx.get("ge", ctx.get("gt")))
    elif kind in ("less_than_equal", "less_than"):
        message = _("Must be at most %(num)s.", num=ctx.get("le", ctx.get("lt")))
    else:
        message = fallback.removeprefix("Value error, ")
    return str(message)


TURBOTEXT_METHOD_FIELDS = {
    "generate_image2image": ("prompt", "strength", "seed", "scale", "negative_prompt"),
    "mix_images": ("prompt",),
    "deepfake_photo": ("face_restore",),
}
JSON_SETTINGS = ("safety_settings",)
CHECKBOXES = ("is_active", "public_gallery", "telegram.enabled")


def provider_fields(provider: str, method: str | None = None) -> tuple[str, ...]:
    """The settings fields the slot form shows for ``provider`` (and turbotext ``method``)."""
    if provider == "turbotext":
        return ("method", *TURBOTEXT_METHOD_FIELDS.get(method or "", ()))
    model = SETTINGS_MODELS.get(provider)
    return tuple(model.model_fields) if model else ()


def default_settings(provider: str) -> dict[str, Any]:
    model = SETTINGS_MODELS[provider]
    defaults = {
        name: info.default
        for name, info in model.model_fields.items()
        if not info.is_required() and info.default is not None
    }
    if provider == "turbotext":
        defaults["method"] = "generate_image2image"
    return defaults


def form_to_payload(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The slot form as a ``SlotUpdate`` body, plus errors of fields that are not even parseable.

    Checkboxes absent from the form are off; empty settings fields are left out (unset); only the
    fields of the chosen provider (and turbotext method) are taken, so hidden leftovers never count.
    """
    errors: dict[str, str] = {}
    provider = form.get("provider", "")
    raw = {
        key[len("settings.") :]: value for key, value in form.items() if key.startswith("settings.")
    }
    settings: dict[str, Any] = {}
    for name in provider_fields(provider, raw.get("method")):
        value = raw.get(name, "").strip()
        if not value:
            continue
        if name in JSON_SETTINGS:
            try:
                settings[name] = json.loads(value)
            except ValueError:
                errors[f"settings.{name}"] = _("Enter valid JSON.")
            continue
        settings[name] = value
    payload: dict[str, Any] = {
        "display_name": form.get("display_name", ""),
        "is_active": "is_active" in form,
        "provider": provider,
        "settings": settings,
        "output": {
            "format": form.get("output.format", ""),
            "quality": form.get("output.quality", ""),
            "max_side": form.get("output.max_side", ""),
        },
        "size_limit_mb": form.get("size_limit_mb", ""),
        "public_gallery": "public_gallery" in form,
        "telegram": {
            "enabled": "telegram.enabled" in form,
            "label": form.get("telegram.label", "").strip() or None,
        },
        "version": form.get("version", ""),
    }
    if form.get("ingest_password_clear"):
        payload["ingest_password"] = None
    elif form.get("ingest_password"):
        payload["ingest_password"] = form["ingest_password"]
    return payload, errors


def settings_values(settings: dict[str, Any]) -> dict[str, str]:
    """Provider settings as the form's ``settings.<field>`` strings."""
    values: dict[str, str] = {}
    for name, value in settings.items():
        if name in JSON_SETTINGS:
            values[f"settings.{name}"] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            values[f"settings.{name}"] = "on" if value else ""
        elif value is not None:
            values[f"settings.{name}"] = str(value)
    return values


def slot_values(slot: Slot) -> dict[str, str]:
    """The slot form's fields as a saved slot fills them."""
    return {
        "display_name": slot.display_name,
        "is_active": "on" if slot.is_active else "",
        "provider": slot.provider,
        **settings_values(slot.settings),
        "output.format": slot.output_format,
        "output.quality": str(slot.output_quality),
        "output.max_side": str(slot.max_side),
        "size_limit_mb": str(slot.size_limit_mb),
        "public_gallery": "on" if slot.public_gallery else "",
        "telegram.enabled": "on" if slot.telegram_enabled else "",
        "telegram.label": slot.telegram_label or "",
        "version": str(slot.version),
    }


@dataclass
class SlotForm:
    """The slot form as shown: values (what was saved or typed), errors by field, and outcome."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    saved: bool = False
    conflict: VersionConflict | None = None

    @classmethod
    def typed(cls, form: MultiDict[str, str], **kwargs: Any) -> SlotForm:
        values = {
            key: value
            for key, value in form.items()
            if key not in ("ingest_password", "csrf_token")
        }
        for name in CHECKBOXES:
            values[name] = "on" if name in form else ""
        return cls(values, **kwargs)

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def checked(self, name: str) -> bool:
        return bool(self.values.get(name))


def literal_values(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The allowed values of a ``Literal`` field (``| None`` ignored), for a select's options."""
    values: list[str] = []
    pending = [model.model_fields[name].annotation]
    while pending:
        annotation = pending.pop(0)
        if get_origin(annotation) is Literal:
            values.extend(str(value) for value in get_args(annotation))
        else:
            pending.extend(get_args(annotation))
    return tuple(values)


PROVIDER_LABELS = {
    "local": _l("Built-in styles (offline)"),
    "gemini": "Google Gemini",
    "turbotext": "TurboText",
    "openai": "OpenAI",
}
STYLE_LABELS = {
    "sepia": _l("Sepia"),
    "bw": _l("Black and white"),
    "pencil": _l("Pencil sketch"),
    "pop_art": _l("Pop art"),
    "cartoon": _l("Cartoon"),
    "vignette": _l("Vignette"),
    "posterize": _l("Posterize"),
    "duotone": _l("Duotone"),
    "warm": _l("Warm"),
    "cool": _l("Cool"),
    "solarize": _l("Solarize"),
    "emboss": _l("Emboss"),
    "pixelate": _l("Pixelate"),
    "neon": _l("Neon"),
    "negative": _l("Negative"),
}
TURBOTEXT_METHOD_LABELS = {
    "generate_image2image": _l("Redraw from a prompt (image to image)"),
    "mix_images": _l("Style from a template (mix images)"),
    "deepfake_photo": _l("Face swap with a template"),
}
OUTPUT_FORMAT_LABELS = {
    "same": _l("Same as the photo"),
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
}
TEMPLATE_KIND_LABELS = {
    "style": _l("Style"),
    "background": _l("Background"),
    "face": _l("Face"),
    "other": _l("Other"),
}
