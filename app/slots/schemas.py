"""What a slot looks like to the API and the slot form.

``SlotUpdate`` is the one change model: the API's PUT body, the slot form (after
``form_to_payload``) and test-run overrides all validate through it, in
``app.slots.service.validate_slot_change``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, get_args, get_origin

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.providers.registry import PROVIDER_NAMES, PROVIDERS, provider_spec
from app.slots.models import OUTPUT_FORMATS, Slot

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
    provider: Literal[PROVIDER_NAMES] | None = None  # type: ignore[valid-type]
    settings: dict[str, Any] | None = None
    output: OutputUpdate | None = None
    size_limit_mb: int | None = Field(None, ge=1, le=200)
    """At most the server's MAX_UPLOAD_MB, when validated with ``context={"max_upload_mb": …}``
    (200 is the bound the API documents)."""
    ingest_password: IngestPassword | None = None
    public_gallery: bool | None = None
    telegram: TelegramUpdate | None = None
    version: int | None = Field(None, ge=1)

    @field_validator("size_limit_mb")
    @classmethod
    def within_server_cap(cls, value: int | None, info: ValidationInfo) -> int | None:
        cap = (info.context or {}).get("max_upload_mb")
        if value is not None and cap is not None and value > cap:
            raise PydanticCustomError(
                "less_than_equal", "Input should be less than or equal to {le}", {"le": cap}
            )
        return value


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


TURBOTEXT_METHOD_FIELDS = {
    "generate_image2image": ("prompt", "strength", "seed", "scale", "negative_prompt"),
    "mix_images": ("prompt",),
    "deepfake_photo": ("face_restore",),
}
JSON_SETTINGS = ("safety_settings",)
CHECKBOXES = ("is_active", "public_gallery", "telegram.enabled")
"""The slot form's checkboxes: absent from a submitted form means off."""


def provider_fields(provider: str, method: str | None = None) -> tuple[str, ...]:
    """The settings fields the slot form shows for ``provider`` (and turbotext ``method``)."""
    if provider == "turbotext":
        return ("method", *TURBOTEXT_METHOD_FIELDS.get(method or "", ()))
    spec = PROVIDERS.get(provider)
    return tuple(spec.settings_model.model_fields) if spec else ()


def default_settings(provider: str) -> dict[str, Any]:
    model = provider_spec(provider).settings_model
    defaults = {
        name: info.default
        for name, info in model.model_fields.items()
        if not info.is_required() and info.default is not None
    }
    if provider == "turbotext":
        defaults["method"] = "generate_image2image"
    return defaults


def form_to_payload(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
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
