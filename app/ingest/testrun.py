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
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.config import Config
from app.deadline import Deadline
from app.ingest.capacity import IngestCapacity
from app.ingest.errors import IngestError
from app.ingest.models import Job
from app.ingest.schemas import IngestRequest, Upload
from app.ingest.service import process_photo
from app.media.storage import MediaStore
from app.providers.base import Outbound
from app.settings.service import RuntimeSettings
from app.slots.errors import SlotInvalid
from app.slots.models import Slot
from app.slots.schemas import SlotUpdate
from app.slots.service import apply_slot_change, validate_slot_change

OVERRIDES_FIELD = "slot_payload"
RUN_FIELDS = frozenset({"provider", "settings", "output", "size_limit_mb"})
"""The override fields a test run uses; the others are validated and ignored."""


@dataclass(frozen=True)
class RunReport:
    """How a test run ended: the job and its timing, and the error when it failed."""

    job_id: str | None
    duration_ms: int | None
    provider_ms: int | None
    error: IngestError | None = None


def run_test(
    session: Session,
    config: Config,
    store: MediaStore,
    runtime: RuntimeSettings,
    outbound: Outbound,
    capacity: IngestCapacity,
    slot: Slot,
    upload: Upload | None,
    source: str,
    *,
    deadline: Deadline,
    arrived_at: datetime,
    client_meta: dict[str, str] | None = None,
) -> RunReport:
    """Process ``upload`` with ``slot`` by ``deadline``; the job row is recorded like any
    ingest's."""
    request = IngestRequest(
        slot=slot,
        source=source,
        upload=upload,
        client_meta=client_meta or {},
        idempotency_key=None,
        dedupe_by_content=False,
        arrived_at=arrived_at,
        deadline=deadline,
    )
    try:
        result = process_photo(session, config, store, runtime, request, outbound, capacity)
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


def with_overrides(slot: Slot, raw: str, *, max_upload_mb: int) -> tuple[Slot, SlotUpdate]:
    """A copy of ``slot`` with the ``slot_payload`` JSON object applied, and that change.

    The overrides are validated as any slot change (a new provider needs its complete settings,
    settings replace the old ones); only ``RUN_FIELDS`` are applied. The copy is in no session and
    never saved. Raises ``SlotInvalid`` with the fields named under ``slot_payload``.
    """
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        raise SlotInvalid({OVERRIDES_FIELD: _("Enter a JSON object.")})
    try:
        change = validate_slot_change(slot, payload, max_upload_mb=max_upload_mb)
    except SlotInvalid as invalid:
        errors = {f"{OVERRIDES_FIELD}.{name}": message for name, message in invalid.errors.items()}
        raise SlotInvalid(errors) from None
    copy = Slot(**{attr.key: getattr(slot, attr.key) for attr in sa.inspect(Slot).column_attrs})
    set_committed_value(copy, "templates", list(slot.templates))
    used = {name: getattr(change, name) for name in RUN_FIELDS & change.model_fields_set}
    apply_slot_change(copy, SlotUpdate.model_construct(**used))
    return copy, change


def overridden_fields(change: SlotUpdate) -> dict[str, str]:
    """What the job row's client metadata says about the overrides a run used."""
    fields = sorted(change.model_fields_set)
    return {"overrides": ",".join(fields)} if fields else {}
