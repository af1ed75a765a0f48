"""Template images of a slot: checked, stored under ``templates/<slot_id>/`` and removed.

A template is written to the volume's temp folder and renamed into place, then its row is
committed; if the database refuses, the files are removed again. Names on disk come from the slot
id and a random media id, never from the upload. Adding or removing a template is a save of the
slot (its version goes up).
"""

from __future__ import annotations

import io
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog
from flask_babel import gettext as _
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.media.images import (
    FORMAT_BY_MIME,
    ImageRejected,
    make_preview,
    prepare_image,
    sniff_mime,
)
from app.media.storage import MediaStore
from app.slots.errors import TemplateNotFound, TemplateRejected
from app.slots.models import TemplateMedia
from app.slots.schemas import TEMPLATE_KINDS
from app.slots.service import lock_slot, mark_saved

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
MAX_TEMPLATES = 4
PREVIEW_DECODE_SIDE = 1024

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CheckedTemplate:
    mime: str
    size_bytes: int
    width: int
    height: int
    preview: bytes


def check_template(stream: IO[bytes], max_pixels: int) -> CheckedTemplate:
    """Refuse anything but a complete JPEG, PNG or WebP image of at most 10 MB."""
    size = stream.seek(0, os.SEEK_END)
    if size == 0:
        raise TemplateRejected("invalid_image", _("The file is empty."))
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateRejected(
            "payload_too_large",
            _("The file is larger than %(num)s MB.", num=MAX_TEMPLATE_BYTES // 2**20),
            413,
        )
    stream.seek(0)
    mime = sniff_mime(stream.read(16))
    if mime is None:
        raise TemplateRejected("unsupported_media_type", _("Only JPEG, PNG or WebP images."), 415)
    try:
        stream.seek(0)
        with Image.open(stream, formats=[FORMAT_BY_MIME[mime]]) as header:
            width, height = header.size
        stream.seek(0)
        preview = make_preview(prepare_image(stream, mime, max_pixels, PREVIEW_DECODE_SIDE).image)
    except ImageRejected as rejected:
        raise TemplateRejected(
            rejected.failure_reason, _("The image could not be read or is too large.")
        ) from rejected
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise TemplateRejected("invalid_image", _("The image could not be read.")) from error
    return CheckedTemplate(mime, size, width, height, preview)


def preview_relpath(template: TemplateMedia) -> str:
    return MediaStore.template_preview_relpath(template.slot_id, template.media_id)


def add_template(
    session: Session,
    store: MediaStore,
    slot_id: str,
    stream: IO[bytes],
    kind: str,
    max_pixels: int,
    updated_by: str,
) -> TemplateMedia:
    """Store an uploaded template for the slot. Raises ``SlotNotFound`` or ``TemplateRejected``."""
    if kind not in TEMPLATE_KINDS:
        raise TemplateRejected("validation_error", _("Choose one of the offered kinds."))
    checked = check_template(stream, max_pixels)
    try:
        slot = lock_slot(session, slot_id)
        if len(slot.templates) >= MAX_TEMPLATES:
            raise TemplateRejected(
                "too_many_templates",
                _("A slot holds at most %(num)s templates; remove one first.", num=MAX_TEMPLATES),
                409,
            )
        media_id = secrets.token_hex(12)
        template = TemplateMedia(
            media_id=media_id,
            slot_id=slot.slot_id,
            kind=kind,
            path=MediaStore.template_relpath(slot.slot_id, media_id, checked.mime),
            mime=checked.mime,
            size_bytes=checked.size_bytes,
            width=checked.width,
            height=checked.height,
            position=max((t.position for t in slot.templates), default=-1) + 1,
        )
        written = write_files(store, template, stream, checked.preview)
    except BaseException:
        session.rollback()
        raise
    try:
        slot.templates.append(template)
        mark_saved(slot, updated_by)
        session.commit()
    except BaseException:
        session.rollback()
        for relative in written:
            store.remove(relative)
        raise
    log.info("slots.template_added", slot_id=slot_id, media_id=media_id, bytes=checked.size_bytes)
    return template


def write_files(
    store: MediaStore, template: TemplateMedia, stream: IO[bytes], preview: bytes
) -> list[str]:
    """Write the template and its preview, each to a temp file renamed into place."""
    written: list[str] = []
    try:
        store.write_file(template.path, stream)
        written.append(template.path)
        store.write_file(preview_relpath(template), io.BytesIO(preview))
        written.append(preview_relpath(template))
    except BaseException:
        for relative in written:
            store.remove(relative)
        raise
    return written


MEDIA_ID = re.compile(r"^[0-9a-f]{24}$")
"""Template ids are 12 random bytes in hex; anything else names no template."""


def find_template(session: Session, slot_id: str, media_id: str) -> TemplateMedia:
    template = session.get(TemplateMedia, media_id) if MEDIA_ID.match(media_id) else None
    if template is None or template.slot_id != slot_id:
        raise TemplateNotFound(media_id)
    return template


def remove_template(
    session: Session, store: MediaStore, slot_id: str, media_id: str, updated_by: str
) -> None:
    """Delete the row (a save of the slot), then its files. Raises ``SlotNotFound`` or
    ``TemplateNotFound``."""
    try:
        slot = lock_slot(session, slot_id)
        if not MEDIA_ID.match(media_id):
            raise TemplateNotFound(media_id)
        template = session.scalars(
            select(TemplateMedia).where(
                TemplateMedia.media_id == media_id, TemplateMedia.slot_id == slot.slot_id
            )
        ).one_or_none()
        if template is None:
            raise TemplateNotFound(media_id)
        files = (template.path, preview_relpath(template))
        session.delete(template)
        mark_saved(slot, updated_by)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    session.expire(slot, ["templates"])
    for relative in files:
        store.remove(relative)
    log.info("slots.template_removed", slot_id=slot_id, media_id=media_id)


def thumbnail_file(store: MediaStore, template: TemplateMedia) -> tuple[Path, str]:
    """The preview to show an admin, or the original when no preview was made."""
    preview = store.path(preview_relpath(template))
    if preview.is_file():
        return preview, "image/webp"
    return store.path(template.path), template.mime
