"""Processing one photo end to end: checks, admission, the provider call, the stored result.

Every step that can fail raises ``IngestError``; ``process_photo`` records the outcome on the job
row (inserted once the password check has passed) and removes whatever it had written, so no
request leaves a file behind or a job ``pending``. Only cheap checks (size, type, hash, the image
header) run before admission; decoding and the provider call run within the concurrency limits.

The final state goes onto the row through ``app.ingest.outcomes``; when the cleanup has already
marked the job ``interrupted``, that outcome stands and the request answers ``timeout``.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import IO

import structlog
from sqlalchemy.orm import Session

from app import metrics
from app.config import Config
from app.db import DATABASE_UNAVAILABLE, retry_while_unavailable, utcnow
from app.ingest.admission import admit
from app.ingest.capacity import IngestCapacity
from app.ingest.errors import IngestError
from app.ingest.ids import new_job_id
from app.ingest.models import Job, JobStatus
from app.ingest.outcomes import INTERRUPTED_DETAIL, finish_job, record_failure
from app.ingest.schemas import CheckedUpload, IngestRequest, IngestResult, Upload
from app.ingest.workers import worker_id
from app.media.images import (
    ImageRejected,
    PreparedImage,
    carries_no_metadata,
    check_decodable,
    decode_result,
    encode_image,
    make_preview,
    prepare_image,
    sniff_mime,
)
from app.media.storage import MediaStore, ResultKind, ResultParts, is_storage_full
from app.providers.base import Outbound, Provider, ProviderError, ProviderRequest, ProviderResult
from app.providers.keys import resolve_api_key, unreadable_key_providers
from app.providers.registry import get_provider
from app.settings.service import RuntimeSettings
from app.slots.models import Slot

log = structlog.get_logger(__name__)


def process_photo(
    session: Session,
    config: Config,
    store: MediaStore,
    runtime: RuntimeSettings,
    request: IngestRequest,
    outbound: Outbound,
    capacity: IngestCapacity,
) -> IngestResult:
    """Run one photo job; ``capacity`` gives turns at this process's image work."""
    slot = request.slot
    api_key = resolve_api_key(config, runtime, slot.provider)
    provider = get_provider(slot.provider, config, api_key, outbound)
    job = Job(
        id=new_job_id(),
        slot_id=slot.slot_id,
        source=request.source,
        status=JobStatus.PENDING,
        provider=provider.name,
        model=provider.model_of(slot.settings),
        idempotency_key=request.idempotency_key,
        client_meta=request.client_meta,
        created_at=request.arrived_at,
        deadline_at=utcnow() + timedelta(seconds=request.deadline.remaining()),
        worker=worker_id(),
    )
    structlog.contextvars.bind_contextvars(job_id=job.id)
    metrics.job_started()
    try:
        if not provider.is_configured():
            if provider.name in unreadable_key_providers(config, runtime):
                raise IngestError(
                    "provider_key_unreadable", f"The stored key of {provider.name} is unreadable."
                )
            raise IngestError("provider_not_configured", f"Provider {provider.name} has no key.")
        upload = check_upload(request.upload, slot_limit_bytes(slot, config))
        job.input_sha256, job.input_bytes, job.input_mime = upload.sha256, upload.size, upload.mime
        check_photo_header(upload, config.max_image_pixels, slot.max_side)
        original = admit(session, runtime, job, provider, request)
        if original is not None:
            return replay(session, store, job, original)
        with capacity.image_work(request.deadline):
            decoded = provider.works_on_pixels
            photo = prepare_photo(upload, config.max_image_pixels, slot.max_side, decoded)
            templates = load_templates(store, slot, config.max_image_pixels, decoded)
        return run_job(
            session,
            store,
            runtime,
            config,
            capacity,
            job,
            provider,
            request,
            upload,
            photo,
            templates,
        )
    except IngestError as error:
        error.job_id = error.job_id or job.id
        detail = error.detail or error.failure_reason
        if not record_failure(session, job, error.failure_reason, detail, request.deadline):
            raise IngestError("timeout", INTERRUPTED_DETAIL, job_id=job.id) from error
        raise
    except DATABASE_UNAVAILABLE:
        # Nothing can be recorded: a pending row stays presumed running until the cleanup
        # marks it interrupted.
        raise
    except Exception as error:
        if is_storage_full(error):
            log.error("ingest.storage_full", error=str(error))
            reason = "storage_full"
        else:
            log.exception("ingest.internal_error")
            reason = "internal_error"
        if not record_failure(session, job, reason, repr(error)[:500], request.deadline):
            raise IngestError("timeout", INTERRUPTED_DETAIL, job_id=job.id) from error
        raise IngestError(reason, job_id=job.id) from error
    finally:
        outbound.media_links.discard(job.id)
        metrics.job_finished(job)


def slot_limit_bytes(slot: Slot, config: Config) -> int:
    return min(slot.size_limit_mb * 1024 * 1024, config.max_upload_bytes)


def check_upload(upload: Upload | None, limit_bytes: int) -> CheckedUpload:
    if upload is None:
        raise IngestError("invalid_request", "No file in the fileToUpload field.")
    stream = upload.stream
    size = stream.seek(0, 2)
    if size == 0:
        raise IngestError("invalid_request", "The uploaded file is empty.")
    if size > limit_bytes:
        raise IngestError(
            "payload_too_large",
            f"The file has {size} bytes; the slot accepts up to {limit_bytes // 2**20} MB.",
        )
    stream.seek(0)
    mime = sniff_mime(stream.read(16))
    if mime is None:
        raise IngestError("unsupported_media_type", "The file is not a JPEG, PNG or WEBP image.")
    stream.seek(0)
    return CheckedUpload(stream, size, sha256_of(stream), mime)


def sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def check_photo_header(upload: CheckedUpload, max_pixels: int, max_side: int) -> None:
    """Refuse, from the header alone, a photo whose decoding would not fit the limits."""
    try:
        check_decodable(upload.stream, upload.mime, max_pixels, max_side)
    except ImageRejected as rejected:
        raise IngestError(rejected.failure_reason, rejected.message) from rejected


def prepare_photo(
    upload: CheckedUpload, max_pixels: int, max_side: int, decoded: bool
) -> PreparedImage:
    upload.stream.seek(0)
    try:
        return prepare_image(upload.stream, upload.mime, max_pixels, max_side, decoded)
    except ImageRejected as rejected:
        raise IngestError(rejected.failure_reason, rejected.message) from rejected


def load_templates(
    store: MediaStore, slot: Slot, max_pixels: int, decoded: bool
) -> list[PreparedImage]:
    """The slot's template images, prepared like the photo."""
    templates = []
    for template in slot.templates:
        with store.path(template.path).open("rb") as file:
            prepared = prepare_image(file, template.mime, max_pixels, slot.max_side, decoded)
        templates.append(prepared)
    return templates


def replay(session: Session, store: MediaStore, job: Job, original: Job) -> IngestResult:
    """Answer with ``original``'s result and record ``job`` as a replay of it.

    The replay row is ``done`` with ``replay_of`` set and no result of its own: galleries,
    downloads, storage figures and the cleanup see each result once, through the original.
    """
    assert original.result_mime
    payload = store.result_file(original, ResultKind.PAYLOAD).read_bytes()
    finished = utcnow()
    job.status = JobStatus.DONE
    job.replay_of = original.id
    job.finished_at = finished
    job.duration_ms = round((finished - job.created_at).total_seconds() * 1000)
    session.add(job)
    session.commit()
    log.info("ingest.replayed", original_job_id=original.id)
    return IngestResult(original.id, payload, original.result_mime, replay=True)


def run_job(
    session: Session,
    store: MediaStore,
    runtime: RuntimeSettings,
    config: Config,
    capacity: IngestCapacity,
    job: Job,
    provider: Provider,
    request: IngestRequest,
    upload: CheckedUpload,
    photo: PreparedImage,
    templates: list[PreparedImage],
) -> IngestResult:
    slot = request.slot
    output_mime = output_mime_for(slot.output_format, upload.mime)
    provider_request = ProviderRequest(
        job_id=job.id,
        photo=photo,
        templates=templates,
        settings=dict(slot.settings),
        deadline=request.deadline,
        output_mime=output_mime,
        output_quality=slot.output_quality,
    )
    provider_started = time.monotonic()
    try:
        result = provider.process(provider_request)
    except ProviderError as error:
        raise IngestError(error.failure_reason, error.message) from error
    finally:
        job.provider_ms = round((time.monotonic() - provider_started) * 1000)
    if request.deadline.expired:
        raise IngestError("timeout", "The provider answered after the deadline; answer discarded.")

    answer_started = time.thread_time()
    with capacity.image_work(request.deadline):
        payload, preview = render_outputs(
            result, output_mime, slot.output_quality, config.max_image_pixels
        )
    parts = ResultParts(payload, output_mime, preview, upload.stream, upload.mime)
    stored = store.write_result(slot.slot_id, job.id, parts)
    try:
        if request.deadline.expired:
            raise IngestError("timeout", "Saving the result passed the deadline.")
        retry_while_unavailable(
            session, lambda: finish_job(session, runtime, job, stored), request.deadline
        )
    except BaseException:
        session.rollback()
        store.remove(stored.path)
        raise
    answer_cpu_seconds = result.answer_cpu_seconds + time.thread_time() - answer_started
    log.info(
        "ingest.done",
        duration_ms=job.duration_ms,
        provider_ms=job.provider_ms,
        answer_cpu_ms=round(answer_cpu_seconds * 1000, 1),
        result_bytes=len(payload),
    )
    return IngestResult(job.id, payload, output_mime)


def output_mime_for(output_format: str, input_mime: str) -> str:
    if output_format == "same":
        return input_mime
    return f"image/{output_format}"


def render_outputs(
    result: ProviderResult, output_mime: str, quality: int, max_pixels: int
) -> tuple[bytes, bytes]:
    """The payload in the slot's format (provider bytes kept when they already are) + preview;
    a provider's image is held to the same pixel and decode-memory limits as a photo."""
    if result.image is not None:
        return encode_image(result.image, output_mime, quality), make_preview(result.image)
    data = result.data or b""
    try:
        image, provider_mime = decode_result(data, max_pixels)
    except ImageRejected as rejected:
        raise IngestError(rejected.failure_reason, rejected.message) from rejected
    if provider_mime != output_mime or not carries_no_metadata(image):
        data = encode_image(image, output_mime, quality)
    return data, make_preview(image)
