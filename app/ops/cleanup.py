"""Retention: the cron job that deletes expired results, stale files and old rows.

A pass marks jobs left pending past their deadline interrupted, deletes results once their
``result_expires_at`` has passed, job rows after 90 days, orphaned result folders and ``temp/``
entries after an hour, and short-lived rows (Telegram, login attempts, rate counters) after two
days.

Two copies never work at once: a session-level advisory lock makes the second one skip, and
PostgreSQL drops the lock if a run dies. Every step selects only what is still left to do, so
the job is idempotent, and each batch removes its files before committing the rows that point at
them, so a run that dies half-way leaves work the next run finishes. Nothing outside ``results/``
and ``temp/`` is ever deleted, and a dry run only counts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session

from app.config import Config
from app.db import make_engine, utcnow
from app.media.storage import MediaStore
from app.ops.cleanup_files import remove_orphans, remove_temp
from app.ops.cleanup_jobs import delete_old_jobs, expire_results, interrupt_stuck_jobs
from app.ops.cleanup_rows import prune_rows
from app.ops.cleanup_run import CleanupRun
from app.ops.cleanup_summary import CleanupSummary
from app.ops.logs import configure_logging
from app.ops.metrics import record_cleanup_success

log = structlog.get_logger(__name__)

LOCK_KEY = "photochanger:cleanup"
BATCH_SIZE = 1000
REMOVE_THREADS = 4


def run_cleanup(
    session: Session,
    store: MediaStore,
    *,
    now: datetime,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> CleanupSummary:
    """One cleanup pass as of ``now``; commits its own work batch by batch."""
    with locked_run(session, store, now, dry_run, batch_size) as run:
        if run is None:
            return CleanupSummary(skipped=True, dry_run=dry_run)
        interrupt_stuck_jobs(run)
        expire_results(run)
        delete_old_jobs(run)
        remove_orphans(run)
        remove_temp(run)
        prune_rows(run)
    summary = run.summary()
    if not dry_run and not summary.errors:
        record_cleanup_success(session)
    return summary


def run_slot_cleanup(
    session: Session,
    store: MediaStore,
    slot_id: str,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
) -> CleanupSummary:
    """Only the expired-results step, for one slot (the slot page's "clean expired media").

    It takes the same lock as the full cleanup, so it skips while that runs (which removes this
    slot's expired results too); live results and templates are never touched.
    """
    with locked_run(session, store, now, False, batch_size, slot_id=slot_id) as run:
        if run is None:
            return CleanupSummary(skipped=True)
        expire_results(run)
    return run.summary()


@contextmanager
def locked_run(
    session: Session,
    store: MediaStore,
    now: datetime,
    dry_run: bool,
    batch_size: int,
    slot_id: str | None = None,
) -> Iterator[CleanupRun | None]:
    """A run holding the cleanup lock, or ``None`` when another cleanup holds it."""
    started = time.monotonic()
    if not store.root.is_dir():
        # A wrong MEDIA_ROOT would otherwise mark every expired result cleaned, files untouched.
        raise FileNotFoundError(f"The media root {store.root} is not a folder.")
    with cleanup_lock(session) as acquired:
        if not acquired:
            yield None
            return
        with ThreadPoolExecutor(REMOVE_THREADS, thread_name_prefix="cleanup") as pool:
            run = CleanupRun(session, store, pool, now, dry_run, batch_size, started, slot_id)
            try:
                yield run
            finally:
                # End the transaction however the run ended: a step that raised leaves its
                # batch uncommitted, and the next run redoes it.
                session.rollback()


@contextmanager
def cleanup_lock(session: Session) -> Iterator[bool]:
    """Try to take the cleanup lock for as long as the block runs; yields whether it did.

    The lock lives on a connection of its own, because the session commits per batch and may get
    a different pooled connection for every transaction. It is a try-lock: a second cleanup
    skips instead of waiting, since the one running does the same work.
    """
    bind = session.get_bind()
    with ExitStack() as stack:
        if isinstance(bind, sa.Engine):
            connection = stack.enter_context(bind.connect())
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            connection = bind
        key = {"key": LOCK_KEY}
        acquired = bool(
            connection.scalar(
                sa.text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"), key
            )
        )
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(
                    sa.text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"), key
                )


def run_cleanup_command(config: Config, dry_run: bool = False) -> int:
    """``photochanger cleanup``: 0 when done or skipped, 1 on any failure, 2 without a database."""
    configure_logging(config.log_level, config.log_format)
    if not config.database_url:
        print(
            "cleanup: DATABASE_URL is not set; point it at the PhotoChanger database.",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(config.database_url, pool_size=2)
    try:
        with Session(engine, expire_on_commit=False) as session:
            summary = run_cleanup(
                session, MediaStore(config.media_root), now=utcnow(), dry_run=dry_run
            )
    except Exception as error:
        reason = (str(error).splitlines() or [type(error).__name__])[0][:300]
        log.exception("cleanup.failed", dry_run=dry_run, error=reason)
        print(f"cleanup: failed: {reason}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(summary.line(), flush=True)
    log.info("cleanup.finished", **summary.log_fields())
    return 1 if summary.errors else 0
