from __future__ import annotations

import time
from typing import Any

import structlog
from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from app import context, db
from app.deadline import request_arrived_at, request_deadline
from app.ingest.capacity import IngestCapacity, current_capacity
from app.ingest.errors import IngestError
from app.ingest.models import JobSource
from app.ingest.password import check_ingest_password, recent_failures
from app.ingest.schemas import IngestRequest, IngestResult, Upload
from app.ingest.service import process_photo
from app.providers.base import request_outbound
from app.settings.service import load_settings
from app.slots.errors import SlotNotFound
from app.slots.models import Slot
from app.slots.service import find_slot
from app.urls import result_page_url

bp = Blueprint("ingest", __name__)
log = structlog.get_logger(__name__)

FILE_FIELDS = ("fileToUpload", "file")
HASH_FIELDS = ("hash", "hash_hex")
MAX_META_FIELDS = 64
MAX_META_VALUE = 1000
MAX_IDEMPOTENCY_KEY = 128


@bp.post("/api/ingest/<slot_id>")
@bp.post("/ingest/<slot_id>")  # registered first, so url_for builds this URL
def ingest(slot_id: str) -> Response:
    capacity = current_capacity()
    with capacity.job():
        return run_ingest(slot_id, capacity)


def run_ingest(slot_id: str, capacity: IngestCapacity) -> Response:
    session = db.session()
    config = context.config()
    slot = find_ingest_slot(session, slot_id)
    runtime = load_settings(session, config)
    client_ip = request.remote_addr or "unknown"
    failures = recent_failures(session, runtime, slot, client_ip)
    session.commit()  # hold no connection while the booth is still uploading
    deadline = request_deadline(runtime.sync_response_seconds)
    check_body_size(request.content_length, config.max_upload_bytes)
    form = read_multipart_form()
    check_ingest_password(
        session,
        config,
        runtime,
        slot,
        form.get("password"),
        client_ip=client_ip,
        failures=failures,
        checks=context.password_checks(),
    )
    ingest_request = IngestRequest(
        slot=slot,
        source=JobSource.INGEST,
        upload=find_upload(),
        client_meta=client_metadata(form),
        idempotency_key=idempotency_key(),
        dedupe_by_content=True,
        arrived_at=request_arrived_at(),
        deadline=deadline,
    )
    result = process_photo(
        session,
        config,
        context.media_store(),
        runtime,
        ingest_request,
        request_outbound(),
        capacity,
    )
    return image_response(result)


def find_ingest_slot(session: Session, slot_id: str) -> Slot:
    try:
        slot = find_slot(session, slot_id)
    except SlotNotFound:
        raise IngestError("slot_not_found") from None
    if not slot.is_active:
        raise IngestError("slot_disabled")
    return slot


def check_body_size(content_length: int | None, cap_bytes: int) -> None:
    """Refuse an oversized body by its declared length, before reading any of it."""
    if content_length is not None and content_length > cap_bytes + FORM_OVERHEAD_BYTES:
        raise IngestError(
            "payload_too_large", f"The request is larger than {cap_bytes // (1024 * 1024)} MB."
        )


FORM_OVERHEAD_BYTES = 256 * 1024
DISCARD_SECONDS = 3.0
DISCARD_CHUNK_BYTES = 256 * 1024


def discard_body(cap_bytes: int) -> None:
    """Read and drop what is left unread of the body of a refused request (at most ``cap_bytes``,
    for at most ``DISCARD_SECONDS``; nothing when the form was already read). The server already
    sent ``100 Continue``, so the booth is sending the photo: closing with it unread resets the
    connection, and the booth would see a broken connection instead of the refusal (a busy
    server's ``Retry-After``, an unknown slot…)."""
    if (request.content_length or 0) > cap_bytes:
        return
    give_up = time.monotonic() + DISCARD_SECONDS
    stream = request.stream
    try:
        while time.monotonic() < give_up and stream.read(DISCARD_CHUNK_BYTES):
            pass
    except Exception:  # a body cut short or malformed: nothing more to drop
        log.info("ingest.body_not_drained")


def read_multipart_form() -> MultiDict[str, str]:
    if request.mimetype != "multipart/form-data":
        raise IngestError("invalid_request", "The body must be multipart/form-data.")
    try:
        return request.form
    except RequestEntityTooLarge as error:
        raise IngestError("payload_too_large", "The request body is too large.") from error


def find_upload() -> Upload | None:
    for field in FILE_FIELDS:
        part = request.files.get(field)
        if part is not None:
            return Upload(stream=part.stream, filename=part.filename)
    return None


def client_metadata(form: MultiDict[str, str]) -> dict[str, Any]:
    """The booth's extra fields, kept for the record and never trusted; the password is dropped."""
    meta: dict[str, Any] = {}
    for key, value in list(form.items())[:MAX_META_FIELDS]:
        if not key or key == "password":
            continue  # a part without a name is no field
        name = "hash" if key in HASH_FIELDS else key[:64]
        meta[name] = value[:MAX_META_VALUE]
    query = {k: v[:MAX_META_VALUE] for k, v in request.args.items() if k != "password"}
    if query:
        meta["query"] = dict(list(query.items())[:MAX_META_FIELDS])
    return meta


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise IngestError("invalid_request", "Idempotency-Key must be 1 to 128 characters.")
    return key


def image_response(result: IngestResult) -> Response:
    response = Response(result.payload, mimetype=result.mime)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Job-Id"] = result.job_id
    response.headers["X-Result-Url"] = result_page_url(result.job_id)
    if result.replay:
        response.headers["X-Idempotent-Replay"] = "true"
    return response


@bp.errorhandler(IngestError)
def ingest_error(error: IngestError) -> tuple[Response, int]:
    discard_body(context.config().max_upload_bytes + FORM_OVERHEAD_BYTES)
    body: dict[str, str] = {
        "status": "error",
        "failure_reason": error.failure_reason,
        "message": error.public_message(),
    }
    if error.job_id:
        body["job_id"] = error.job_id
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Connection"] = "close"
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response, error.status


@bp.errorhandler(RequestEntityTooLarge)
def body_too_large(_error: RequestEntityTooLarge) -> tuple[Response, int]:
    return ingest_error(IngestError("payload_too_large", "The request body is too large."))
