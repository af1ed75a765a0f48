"""JSON API of the slots domain (admin bearer token)."""

from __future__ import annotations

from typing import Literal

from flask import Response, make_response, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict
from spectree import Response as SpecResponse
from spectree.model_adapter.pydantic_adapter import BaseFile
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app import context, db
from app.api import (
    AUTH_ERRORS,
    BEARER,
    ApiError,
    api_blueprint,
    api_error,
    refuse_non_object_body,
    spec,
    validation_error,
)
from app.auth.guard import current_admin
from app.slots.errors import (
    SlotInvalid,
    SlotNotFound,
    SlotVersion,
    TemplateNotFound,
    TemplateRejected,
    VersionConflict,
)
from app.slots.models import Slot, TemplateMedia
from app.slots.schemas import (
    TEMPLATE_KINDS,
    OutputOut,
    SlotList,
    SlotOut,
    SlotUpdate,
    TelegramOut,
    TemplateMediaOut,
)
from app.slots.service import find_slot, update_slot
from app.slots.template_media import add_template, remove_template
from app.urls import external_url

bp = api_blueprint("slots_api", __name__)


class VersionConflictError(ApiError, SlotVersion):
    """409: the slot was saved by someone else since the version the caller sent."""


class TemplateUpload(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    file: BaseFile
    kind: Literal[TEMPLATE_KINDS] = "style"  # type: ignore[valid-type]


def template_out(template: TemplateMedia) -> TemplateMediaOut:
    return TemplateMediaOut(
        media_id=template.media_id,
        kind=template.kind,
        mime=template.mime,
        width=template.width,
        height=template.height,
        size_bytes=template.size_bytes,
        preview_url=external_url(
            "slots.template_image", slot_id=template.slot_id, media_id=template.media_id
        ),
    )


def slot_out(slot: Slot) -> SlotOut:
    return SlotOut(
        slot_id=slot.slot_id,
        display_name=slot.display_name,
        is_active=slot.is_active,
        provider=slot.provider,
        settings=slot.settings,
        output=OutputOut(
            format=slot.output_format, quality=slot.output_quality, max_side=slot.max_side
        ),
        size_limit_mb=slot.size_limit_mb,
        ingest_password_set=slot.ingest_password_hash is not None,
        public_gallery=slot.public_gallery,
        telegram=TelegramOut(enabled=slot.telegram_enabled, label=slot.telegram_label),
        template_media=[template_out(t) for t in slot.templates],
        version=slot.version,
        updated_at=slot.updated_at,
        updated_by=slot.updated_by,
    )


def slot_not_found() -> Response:
    return api_error(404, "slot_not_found", _("There is no such slot."))


@bp.get("/slots")
@spec.validate(resp=SpecResponse(HTTP_200=SlotList, **AUTH_ERRORS), tags=["slots"], security=BEARER)
def list_slots() -> Response:
    slots = db.session().scalars(select(Slot).order_by(Slot.slot_id))
    return make_response(SlotList(slots=[slot_out(s) for s in slots]).model_dump(mode="json"))


@bp.get("/slots/<slot_id>")
@spec.validate(
    resp=SpecResponse(HTTP_200=SlotOut, HTTP_404=ApiError, **AUTH_ERRORS),
    tags=["slots"],
    security=BEARER,
)
def get_slot(slot_id: str) -> Response:
    try:
        slot = find_slot(db.session(), slot_id)
    except SlotNotFound:
        return slot_not_found()
    return make_response(slot_out(slot).model_dump(mode="json"))


@bp.put("/slots/<slot_id>")
@spec.validate(
    json=SlotUpdate,
    resp=SpecResponse(
        HTTP_200=SlotOut,
        HTTP_404=ApiError,
        HTTP_409=VersionConflictError,
        HTTP_415=ApiError,
        HTTP_422=ApiError,
        **AUTH_ERRORS,
    ),
    tags=["slots"],
    security=BEARER,
)
def put_slot(slot_id: str, json: SlotUpdate) -> Response:
    """Change any subset of the slot's fields; ``ingest_password`` is write-only."""
    refused = refuse_non_object_body()
    if refused is not None:
        return refused
    max_upload_mb = context.config().max_upload_mb
    raw = request.get_json()
    try:
        slot = update_slot(db.session(), slot_id, raw, current_admin(), max_upload_mb=max_upload_mb)
    except SlotNotFound:
        return slot_not_found()
    except VersionConflict as conflict:
        body = VersionConflictError(
            failure_reason="version_conflict",
            message=_("The slot was changed by someone else; read it again and retry."),
            **conflict.current.model_dump(),
        )
        return make_response(body.model_dump(mode="json"), 409)
    except SlotInvalid as invalid:
        return validation_error(invalid.errors)
    return make_response(slot_out(slot).model_dump(mode="json"))


@bp.post("/slots/<slot_id>/template-media")
@spec.validate(
    form=TemplateUpload,
    resp=SpecResponse(
        HTTP_201=TemplateMediaOut,
        HTTP_404=ApiError,
        HTTP_409=ApiError,
        HTTP_413=ApiError,
        HTTP_415=ApiError,
        HTTP_422=ApiError,
        **AUTH_ERRORS,
    ),
    tags=["slots"],
    security=BEARER,
)
def post_template_media(slot_id: str, form: TemplateUpload) -> Response:
    """Attach a template image (JPEG, PNG or WebP, at most 10 MB, at most 4 per slot)."""
    if form is None or not isinstance(form.file, FileStorage):
        return validation_error({"file": _("Send the image as a multipart file part.")})
    config = context.config()
    try:
        template = add_template(
            db.session(),
            context.media_store(),
            slot_id,
            form.file.stream,
            form.kind,
            config.max_image_pixels,
            current_admin(),
        )
    except SlotNotFound:
        return slot_not_found()
    except TemplateRejected as rejected:
        return api_error(rejected.status, rejected.failure_reason, rejected.message)
    return make_response(template_out(template).model_dump(mode="json"), 201)


@bp.delete("/slots/<slot_id>/template-media/<media_id>")
@spec.validate(
    resp=SpecResponse("HTTP_204", HTTP_404=ApiError, **AUTH_ERRORS), tags=["slots"], security=BEARER
)
def delete_template_media(slot_id: str, media_id: str) -> Response:
    try:
        remove_template(db.session(), context.media_store(), slot_id, media_id, current_admin())
    except SlotNotFound:
        return slot_not_found()
    except TemplateNotFound:
        return api_error(404, "template_not_found", _("The slot has no such template."))
    return Response(status=204)
