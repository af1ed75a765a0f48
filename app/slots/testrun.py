"""An admin's test run of a slot: one photo through the ingest pipeline, from the page or the API.

Unlike a booth ingest it needs no password, works on a switched-off slot, always reprocesses
(never deduplicated) and may run with overrides applied to a copy of the slot that is never saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.config import Config
from app.ingest.errors import IngestError
from app.ingest.models import Job
from app.ingest.service import IngestRequest, Upload, process_photo
from app.media.storage import MediaStore
from app.providers import Outbound
from app.providers.base import Deadline
from app.providers.schemas import SettingsInvalid, validate_settings
from app.settings.service import RuntimeSettings
from app.slots.models import Slot
from app.slots.schemas import SlotUpdate, localized_errors

OVERRIDES_FIELD = "slot_payload"


@dataclass(frozen=True)
class RunReport:
    """How a test run ended: the job and its timing, and the error when it failed."""

    job_id: str | None
    duration_ms: int | None
    provider_ms: int | None
    error: IngestError | None = None


class OverridesInvalid(ValueError):
    """Field errors of test-run overrides, as ``{field: message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def run_test(
    session: Session,
    config: Config,
    store: MediaStore,
    runtime: RuntimeSettings,
    outbound: Outbound,
    slot: Slot,
    upload: Upload | None,
    source: str,
    *,
    started: float,
    arrived_at: datetime,
    client_meta: dict[str, str] | None = None,
) -> RunReport:
    """Process ``upload`` with ``slot`` within ``sync_response_seconds`` from ``started``
    (monotonic); the job row is recorded like any ingest's."""
    request = IngestRequest(
        slot=slot,
        source=source,
        upload=upload,
        client_meta=client_meta or {},
        idempotency_key=None,
        dedupe_by_content=False,
        arrived_at=arrived_at,
        deadline=Deadline.after(runtime.sync_response_seconds, start=started),
    )
    try:
        result = process_photo(session, config, store, runtime, request, outbound)
    except IngestError as error:
        return _report(session, error.job_id, error)
    return _report(session, result.job_id, None)


def _report(session: Session, job_id: str | None, error: IngestError | None) -> RunReport:
    timing = None
    if job_id is not None:
        timing = session.execute(
            sa.select(Job.duration_ms, Job.provider_ms).where(Job.id == job_id)
        ).first()
        session.commit()
    if timing is None:
        return RunReport(job_id, None, None, error)
    return RunReport(job_id, timing.duration_ms, timing.provider_ms, error)


def parse_overrides(raw: str) -> SlotUpdate:
    """The ``slot_payload`` JSON object, validated as a slot change."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise OverridesInvalid({OVERRIDES_FIELD: _("Enter a JSON object.")}) from None
    if not isinstance(payload, dict):
        raise OverridesInvalid({OVERRIDES_FIELD: _("Enter a JSON object.")})
    try:
        return SlotUpdate.model_validate(payload)
    except ValidationError as error:
        raise OverridesInvalid(localized_errors(error, prefix=OVERRIDES_FIELD)) from None


def with_overrides(slot: Slot, update: SlotUpdate) -> Slot:
    """A copy of ``slot`` with the fields a run uses changed; not in any session, never saved.

    As in a saved change, a new provider needs its complete settings, and settings replace the
    old ones rather than merge with them.
    """
    copy = Slot(**{attr.key: getattr(slot, attr.key) for attr in sa.inspect(Slot).column_attrs})
    set_committed_value(copy, "templates", list(slot.templates))
    provider = update.provider or slot.provider
    if update.settings is not None or provider != slot.provider:
        if update.settings is None:
            message = _("Send the complete settings for the new provider.")
            raise OverridesInvalid({f"{OVERRIDES_FIELD}.settings": message})
        try:
            copy.settings = validate_settings(provider, update.settings)
        except SettingsInvalid as invalid:
            raise OverridesInvalid(
                {f"{OVERRIDES_FIELD}.settings.{k}": v for k, v in invalid.errors.items()}
            ) from None
        copy.provider = provider
    if update.output is not None:
        copy.output_format = update.output.format or copy.output_format
        copy.output_quality = update.output.quality or copy.output_quality
        copy.max_side = update.output.max_side or copy.max_side
    if update.size_limit_mb is not None:
        copy.size_limit_mb = update.size_limit_mb
    return copy


def overridden_fields(update: SlotUpdate) -> dict[str, str]:
    """What the job row's client metadata says about the overrides a run used."""
    fields = sorted(update.model_fields_set)
    return {"overrides": ",".join(fields)} if fields else {}
