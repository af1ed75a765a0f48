"""Slot tools: test run, recent results, ZIP of live results, cleaning a slot's expired media."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from flask import Blueprint, Response, make_response, render_template, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from spectree import Response as SpecResponse
from sqlalchemy.orm import Session, load_only
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from app import context, db
from app.api import AUTH_ERRORS, BEARER, ApiError, api_blueprint, spec, validation_error
from app.auth.guard import require_admin_session
from app.db import utcnow
from app.deadline import request_arrived_at, request_deadline
from app.ingest.capacity import current_capacity
from app.ingest.errors import IngestError
from app.ingest.models import Job, JobSource, JobStatus
from app.ingest.results_zip import zip_chunks, zip_entries
from app.ingest.schemas import Upload
from app.ingest.testrun import RunReport, overridden_fields, run_test, with_overrides
from app.ops.cleanup import run_slot_cleanup
from app.ops.cleanup_summary import CleanupSummary
from app.providers.base import request_outbound
from app.settings.service import load_settings
from app.slots.errors import SlotInvalid, SlotNotFound
from app.slots.models import Slot
from app.slots.service import find_slot, slot_or_404
from app.urls import result_links

bp = Blueprint("slot_tools", __name__, url_prefix="/admin/slots")
bp.before_request(require_admin_session)

api_bp = api_blueprint("slot_tools_api", __name__)

PHOTO_FIELD = "photo"
RECENT_LIMIT = 10


def api_slot(session: Session, slot_id: str) -> Slot:
    """The slot, or the ingest error table's 404 (API test runs answer like ingest)."""
    try:
        return find_slot(session, slot_id)
    except SlotNotFound as error:
        raise IngestError("slot_not_found") from error


def start_run(
    session: Session,
    slot: Slot,
    upload: Upload,
    source: str,
    client_meta: dict[str, str] | None = None,
) -> RunReport:
    config = context.config()
    runtime = load_settings(session, config)
    session.commit()
    return run_test(
        session,
        config,
        context.media_store(),
        runtime,
        request_outbound(),
        current_capacity(),
        slot,
        upload,
        source,
        deadline=request_deadline(runtime.sync_response_seconds),
        arrived_at=request_arrived_at(),
        client_meta=client_meta,
    )


def live_results(
    session: Session, slot_id: str, now: datetime, limit: int | None = None
) -> list[Job]:
    """The slot's results a guest can still open (any source), newest first."""
    statement = (
        sa.select(Job)
        .options(
            load_only(
                Job.id,
                Job.source,
                Job.created_at,
                Job.finished_at,
                Job.result_path,
                Job.result_mime,
                Job.result_expires_at,
            )
        )
        .where(Job.slot_id == slot_id, Job.live_result(now))
        .order_by(Job.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


# --- admin pages (htmx fragments of the slot page) ---


@bp.post("/<slot_id>/test-run")
def test_run(slot_id: str) -> tuple[str, int, dict[str, str]]:
    session = db.session()
    slot = slot_or_404(session, slot_id)
    part = request.files.get(PHOTO_FIELD)
    if part is None or not part.filename:
        missing = _("Choose a photo to test the slot with.")
        return render_template("slots/_tools_result.html", missing=missing), 422, {}
    report = start_run(session, slot, Upload(part.stream, part.filename), JobSource.UI_TEST)
    status = 200
    if report.error is not None and report.error.status < 500:
        status = report.error.status
    page = render_template("slots/_tools_result.html", report=report)
    return page, status, {"HX-Trigger": "testrun-done"}


@bp.get("/<slot_id>/recent")
def recent(slot_id: str) -> str:
    session = db.session()
    slot_or_404(session, slot_id)
    results = live_results(session, slot_id, utcnow(), limit=RECENT_LIMIT)
    return render_template("slots/_tools_recent.html", results=results)


@bp.get("/<slot_id>/results.zip")
def results_zip(slot_id: str) -> Response:
    session = db.session()
    slot_or_404(session, slot_id)
    now = utcnow()
    entries = zip_entries(context.media_store(), slot_id, live_results(session, slot_id, now))
    session.commit()
    response = Response(zip_chunks(entries), mimetype="application/zip")
    filename = f"{slot_id}-results-{now:%Y%m%d-%H%M}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<slot_id>/cleanup")
def cleanup(slot_id: str) -> str:
    session = db.session()
    slot_or_404(session, slot_id)
    summary = clean_slot(session, slot_id)
    return render_template("slots/_tools_cleanup.html", summary=summary)


def clean_slot(session: Session, slot_id: str) -> CleanupSummary:
    session.commit()
    return run_slot_cleanup(session, context.media_store(), slot_id, now=utcnow())


@bp.errorhandler(RequestEntityTooLarge)
def page_upload_too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    report = RunReport(None, None, None, IngestError("payload_too_large"))
    return render_template("slots/_tools_result.html", report=report), 413


# --- JSON API ---


def _uploaded_file(value: object) -> FileStorage:
    if not isinstance(value, FileStorage):
        raise ValueError("must be a file part of the multipart body")
    return value


UploadedFile = Annotated[
    FileStorage,
    PlainValidator(_uploaded_file),
    WithJsonSchema({"type": "string", "format": "binary"}),
]


class SlotTestRunForm(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    test_image: UploadedFile = Field(description="The photo: JPEG, PNG or WEBP.")
    slot_payload: str | None = Field(
        None,
        max_length=100_000,
        description=(
            "A JSON object of slot fields (as in PUT /api/slots/{slot_id}) applied to this run "
            "only, never saved. Provider, settings, output and size limit take effect; the other "
            "fields are validated and ignored."
        ),
    )


class SlotTestRunResult(BaseModel):
    job_id: str
    status: Literal[JobStatus.DONE] = JobStatus.DONE
    duration_ms: int | None
    provider_ms: int | None
    result_url: str
    page_url: str
    preview_url: str


class SlotTestRunFailure(ApiError):
    job_id: str | None = None


class SlotCleanupResult(BaseModel):
    slot_id: str
    skipped: bool = Field(description="True when the scheduled cleanup was running; try later.")
    expired_results: int
    bytes_freed: int
    errors: int


@api_bp.post("/slots/<slot_id>/test-run")
@spec.validate(
    form=SlotTestRunForm,
    resp=SpecResponse(
        HTTP_200=SlotTestRunResult,
        HTTP_400=SlotTestRunFailure,
        HTTP_404=SlotTestRunFailure,
        HTTP_413=SlotTestRunFailure,
        HTTP_415=SlotTestRunFailure,
        HTTP_422=ApiError,
        HTTP_429=SlotTestRunFailure,
        HTTP_502=SlotTestRunFailure,
        HTTP_503=SlotTestRunFailure,
        HTTP_504=SlotTestRunFailure,
        **AUTH_ERRORS,
    ),
    tags=["slots"],
    security=BEARER,
)
def api_test_run(slot_id: str, form: SlotTestRunForm) -> Response:
    """Run one photo through the slot, as the slot page's Test run does (source ``api``)."""
    session = db.session()
    slot = api_slot(session, slot_id)
    if form is None:  # spectree validates only form bodies; any other body arrives as None
        raise IngestError("invalid_request", "Send multipart/form-data with a test_image file.")
    client_meta: dict[str, str] = {}
    if form.slot_payload is not None:
        max_upload_mb = context.config().max_upload_mb
        try:
            slot, change = with_overrides(slot, form.slot_payload, max_upload_mb=max_upload_mb)
        except SlotInvalid as invalid:
            return validation_error(invalid.errors)
        client_meta = overridden_fields(change)
    upload = Upload(form.test_image.stream, form.test_image.filename)
    report = start_run(session, slot, upload, JobSource.API, client_meta)
    if report.error is not None:
        return api_run_error(report.error)
    assert report.job_id
    links = result_links(report.job_id)
    body = SlotTestRunResult(
        job_id=report.job_id,
        duration_ms=report.duration_ms,
        provider_ms=report.provider_ms,
        result_url=links.file,
        page_url=links.page,
        preview_url=links.preview,
    )
    return make_response(body.model_dump(mode="json"))


@api_bp.post("/slots/<slot_id>/cleanup")
@spec.validate(
    resp=SpecResponse(HTTP_200=SlotCleanupResult, HTTP_404=ApiError, **AUTH_ERRORS),
    tags=["slots"],
    security=BEARER,
)
def api_cleanup(slot_id: str) -> Response:
    """Delete this slot's expired results now (live results and templates are never touched)."""
    session = db.session()
    api_slot(session, slot_id)
    summary = clean_slot(session, slot_id)
    body = SlotCleanupResult(
        slot_id=slot_id,
        skipped=summary.skipped,
        expired_results=summary.expired_results,
        bytes_freed=summary.bytes_freed,
        errors=summary.errors,
    )
    return make_response(body.model_dump(mode="json"))


def api_run_error(error: IngestError) -> Response:
    body = SlotTestRunFailure(
        failure_reason=error.failure_reason, message=error.public_message(), job_id=error.job_id
    )
    response = make_response(body.model_dump(mode="json"))
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@api_bp.errorhandler(IngestError)
def api_error_of(error: IngestError) -> Response:
    return api_run_error(error)


@api_bp.errorhandler(RequestEntityTooLarge)
def api_upload_too_large(_error: RequestEntityTooLarge) -> Response:
    return api_run_error(IngestError("payload_too_large", "The request body is too large."))
