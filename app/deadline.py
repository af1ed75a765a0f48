"""The request clock and the deadline a request must answer by.

The clock starts when a request arrives (before the body is read), so the time a booth spends
uploading counts against ``T_sync_response``: every deadline of a request is measured from there.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import g


class Deadline:
    """A point in monotonic time that a whole request must finish by."""

    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at

    @classmethod
    def after(cls, seconds: float, start: float | None = None) -> Deadline:
        return cls((time.monotonic() if start is None else start) + seconds)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.expires_at

    def fits(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` still leaves time before the deadline."""
        return self.remaining() > seconds


def start_request_clock() -> None:
    """Note the arrival of the current request; the app's first ``before_request`` calls it."""
    g.request_started = time.monotonic()
    g.request_arrived_at = datetime.now(UTC)


def _ensure_started() -> None:
    if "request_started" not in g:
        start_request_clock()


def request_deadline(seconds: float) -> Deadline:
    """The deadline ``seconds`` after the current request arrived."""
    _ensure_started()
    return Deadline.after(seconds, start=g.request_started)


def request_arrived_at() -> datetime:
    """When the current request arrived (UTC wall clock, for job rows)."""
    _ensure_started()
    arrived_at: datetime = g.request_arrived_at
    return arrived_at


def request_elapsed_ms() -> int:
    """Milliseconds since the current request arrived."""
    _ensure_started()
    started: float = g.request_started
    return round((time.monotonic() - started) * 1000)
