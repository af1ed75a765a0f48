"""What can go wrong when a slot or its template images are read or changed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class SlotNotFound(LookupError):
    pass


class SlotVersion(BaseModel):
    """Who saved the slot last, when, and the version that save made."""

    updated_by: str | None
    updated_at: datetime
    current_version: int


class VersionConflict(Exception):
    """The slot was saved by someone else since the caller read its version."""

    def __init__(self, current: SlotVersion) -> None:
        when = current.updated_at.isoformat()
        super().__init__(f"slot changed by {current.updated_by} at {when}")
        self.current = current


class SlotInvalid(ValueError):
    """Field errors of a slot change, as ``{dotted field: message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class TemplateRejected(ValueError):
    """An upload that cannot become a template image, with the HTTP status that says why."""

    def __init__(self, failure_reason: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.failure_reason = failure_reason
        self.message = message
        self.status = status


class TemplateNotFound(LookupError):
    pass
