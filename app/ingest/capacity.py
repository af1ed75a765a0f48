"""This process's share of the server for photo jobs.

gunicorn's gthread worker hands each readable connection to its pool of threads in arrival order.
A photo job holds its thread for up to ``T_sync_response``, mostly waiting for the provider, so
without a bound a burst of uploads takes every thread: ``/healthz``, admin pages and the bot
webhook queue behind them, and uploads queued behind the pool start their clock only when a thread
picks them up, so they answer after the booth has given up. Two bounds per process fix that:

- ``jobs``: at most ``INGEST_JOBS_PER_WORKER`` photo jobs (booth uploads, Telegram photos) at
  once. One more is refused at once (``429 server_busy`` + ``Retry-After``, a booth's before its
  body is read; the bot tells its user), so the rest of the pool stays free for everything else
  and for quick refusals, and an accepted upload starts within milliseconds of arriving.
- ``image_work``: at most ``IMAGE_WORK_PER_WORKER`` decodes and encodes at once. Two cores do no
  more work with 48 decodes in parallel, and each decode of a 12 MP photo holds tens of MB: a
  burst decoding all at once took the server past 1.5 GB.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

from app.deadline import Deadline
from app.ingest.errors import IngestError

RETRY_AFTER_SECONDS = 5
EXTENSION = "photochanger.ingest_capacity"


class IngestCapacity:
    def __init__(self, jobs: int, image_work: int) -> None:
        self._jobs = threading.BoundedSemaphore(jobs)
        self._image_work = threading.BoundedSemaphore(image_work)

    @contextmanager
    def job(self) -> Iterator[None]:
        """Hold one of this process's job places, or refuse with ``server_busy`` at once."""
        if not self._jobs.acquire(blocking=False):
            raise IngestError(
                "server_busy",
                "Every photo place of this server process is taken.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        try:
            yield
        finally:
            self._jobs.release()

    @contextmanager
    def image_work(self, deadline: Deadline) -> Iterator[None]:
        """Wait (within ``deadline``) for a turn to decode or encode images."""
        if not self._image_work.acquire(timeout=deadline.remaining()):
            raise IngestError("timeout", "The server was too busy to process the photo in time.")
        try:
            yield
        finally:
            self._image_work.release()


def init_app(app: Flask, jobs: int, image_work: int) -> None:
    app.extensions[EXTENSION] = IngestCapacity(jobs, image_work)


def current_capacity() -> IngestCapacity:
    """The capacity of the process serving the current request."""
    value: IngestCapacity = current_app.extensions[EXTENSION]
    return value
