"""Job rows written straight into the test database, as ingest would have left them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.ids import new_job_id
from app.ingest.models import Job

FAILURE_STATUS = {"timeout": "timeout", "interrupted": "interrupted"}


def add_job(
    session: Session,
    *,
    slot_id: str = "slot-001",
    status: str = "done",
    age: timedelta = timedelta(minutes=5),
    duration_ms: int | None = 1000,
    failure_reason: str | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> Job:
    """One job created ``age`` before ``now``; failed ones get a reason, pending ones no end."""
    created = (now or utcnow()) - age
    finished = status != "pending"
    if status in ("failed", "timeout", "interrupted") and failure_reason is None:
        failure_reason = FAILURE_STATUS.get(status, "provider_error")
    values: dict[str, Any] = {
        "id": new_job_id(),
        "slot_id": slot_id,
        "source": "ingest",
        "status": status,
        "provider": "local",
        "created_at": created,
        "deadline_at": created + timedelta(seconds=48),
        "finished_at": created + timedelta(milliseconds=duration_ms or 0) if finished else None,
        "duration_ms": duration_ms if finished else None,
        "failure_reason": failure_reason,
        "failure_message": f"{failure_reason} happened" if failure_reason else None,
        "client_meta": {},
        **fields,
    }
    job = Job(**values)
    session.add(job)
    session.commit()
    return job
