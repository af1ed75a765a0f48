"""Retention (spec §9): the cron job that deletes expired results, stale files and old rows.

Two copies never work at once: a session-level advisory lock makes the second one skip, and
PostgreSQL drops the lock if a run dies. Every step selects only what is still left to do, so
the job is idempotent, and each batch removes its files before committing the rows that point at
them, so a run that dies half-way leaves work the next run finishes. Nothing outside ``results/``
and ``temp/`` is ever deleted, and a dry run only counts.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.auth.models import LoginAttempt
from app.bot.models import TelegramDailyCount, TelegramPendingPhoto, TelegramUpdate
from app.config import Config
from app.db import make_engine, utcnow
from app.ingest.models import Job, JobStatus
from app.media.models import MediaObject
from app.media.storage import MediaStore, UnsafePath
from app.ops.cleanup_summary import CleanupSummary
from app.ops.logs import configure_logging
from app.ops.models import RateCounter

log = structlog.get_logger(__name__)

LOCK_KEY = "photochanger:cleanup"
BATCH_SIZE = 1000
REMOVE_THREADS = 4
MAX_ERRORS = 100
FILE_AGE = timedelta(hours=1)
ROW_AGE = timedelta(hours=48)
JOB_AGE = timedelta(days=90)
INTERRUPTED_MESSAGE = (
    "The server process handling this job stopped before it finished (restart, crash or killed "
    "worker); the cleanup marked it interrupted after its deadline had passed."
)


def run_cleanup(
    session: Session,
    store: MediaStore,
    *,
    now: datetime,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> CleanupSummary:
    """One cleanup pass as of ``now``; commits its own work batch by batch."""
    with _locked_run(session, store, now, dry_run, batch_size) as run:
        if run is None:
            return CleanupSummary(skipped=True, dry_run=dry_run)
        run.interrupt_stuck_jobs()
        run.expire_results()
        run.delete_old_jobs()
        run.remove_orphans()
        run.remove_temp()
        run.prune_rows()
    return run.summary()


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
    with _locked_run(session, store, now, False, batch_size, slot_id=slot_id) as run:
        if run is None:
            return CleanupSummary(skipped=True)
        run.expire_results()
    return run.summary()


@contextmanager
def _locked_run(
    session: Session,
    store: MediaStore,
    now: datetime,
    dry_run: bool,
    batch_size: int,
    slot_id: str | None = None,
) -> Iterator[_Run | None]:
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
            run = _Run(session, store, pool, now, dry_run, batch_size, started, slot_id)
            try:
                yield run
            finally:
                session.rollback()


@contextmanager
def cleanup_lock(session: Session) -> Iterator[bool]:
    """Try to take the cleanup lock for as long as the block runs; yields whether it did.

    The lock lives on a connection of its own, because the session commits per batch and may get
    a different pooled connection for every transaction.
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


class _Run:
    def __init__(
        self,
        session: Session,
        store: MediaStore,
        pool: ThreadPoolExecutor,
        now: datetime,
        dry_run: bool,
        batch_size: int,
        started: float,
        slot_id: str | None,
    ) -> None:
        self.session = session
        self.store = store
        self.pool = pool
        self.now = now
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.started = started
        self.slot_id = slot_id
        self.tally = CleanupSummary(dry_run=dry_run)
        self.failed_jobs: set[str] = set()

    def summary(self) -> CleanupSummary:
        return replace(self.tally, seconds=time.monotonic() - self.started)

    def finish_batch(self) -> None:
        if self.dry_run:
            self.session.rollback()
        else:
            self.session.commit()

    def interrupt_stuck_jobs(self) -> None:
        """Pending past the deadline means the worker died: admission already ignores such jobs."""
        stuck = (Job.status == JobStatus.PENDING) & (Job.deadline_at < self.now)
        if self.dry_run:
            self.tally.interrupted += self._count(Job, stuck)
            return
        self.tally.interrupted += self._execute(
            sa.update(Job)
            .where(stuck)
            .values(
                status=JobStatus.INTERRUPTED,
                failure_reason="interrupted",
                failure_message=INTERRUPTED_MESSAGE,
                finished_at=self.now,
            )
        )
        self.finish_batch()

    def expire_results(self) -> None:
        expired = Job.expired_result(self.now)
        if self.slot_id is not None:
            expired &= Job.slot_id == self.slot_id
        query = sa.select(Job.id, Job.result_path, Job.result_expires_at).where(expired)
        for rows in self._batches(query, Job.result_expires_at):
            cleaned = self._remove_results([(row.id, row.result_path) for row in rows])
            if cleaned and not self.dry_run:
                self._execute(
                    sa.update(Job).where(Job.id == _any(cleaned)).values(cleaned_at=self.now)
                )
                self._execute(
                    sa.update(MediaObject)
                    .where(MediaObject.job_id == _any(cleaned), MediaObject.deleted_at.is_(None))
                    .values(deleted_at=self.now)
                )
            self.tally.expired_results += len(cleaned)
            self.finish_batch()

    def delete_old_jobs(self) -> None:
        """Job rows past the retention age go, their media rows by cascade, any result first."""
        query = sa.select(
            Job.id, Job.result_path, Job.cleaned_at, Job.result_expires_at, Job.created_at
        ).where(Job.created_at < self.now - JOB_AGE)
        for rows in self._batches(query, Job.created_at):
            no_folder = {row.id for row in rows if row.result_path is None or row.cleaned_at}
            if self.dry_run:  # the expired-results step has already counted these folders
                no_folder |= {
                    row.id
                    for row in rows
                    if row.result_expires_at is not None and row.result_expires_at <= self.now
                }
            leftovers = [(row.id, row.result_path) for row in rows if row.id not in no_folder]
            removed = set(self._remove_results(leftovers))
            deletable = [row.id for row in rows if row.id in no_folder or row.id in removed]
            if deletable and not self.dry_run:
                self._execute(sa.delete(Job).where(Job.id == _any(deletable)))
            self.tally.pruned_jobs += len(deletable)
            self.finish_batch()

    def remove_orphans(self) -> None:
        """Old folders under ``results/<slot>/<job>`` that no live job points at.

        A folder is live while its job row is uncleaned and either names it as its result or is
        still pending (its result is written just before the row is finished).
        """
        if not self.store.results_dir.is_dir():
            return
        cutoff = (self.now - FILE_AGE).timestamp()
        for slot_dir in _subdirectories(self.store.results_dir):
            old = [folder for folder in _subdirectories(slot_dir) if _older(folder, cutoff)]
            for start in range(0, len(old), self.batch_size):
                batch = old[start : start + self.batch_size]
                live = self._live_result_paths([folder.name for folder in batch])
                for folder in batch:
                    if f"results/{slot_dir.name}/{folder.name}" not in live and self._delete(
                        folder
                    ):
                        self.tally.orphans_removed += 1
                self.session.rollback()

    def remove_temp(self) -> None:
        if not self.store.temp_dir.is_dir():
            return
        cutoff = (self.now - FILE_AGE).timestamp()
        with os.scandir(self.store.temp_dir) as entries:
            old = [Path(entry.path) for entry in entries if _older(Path(entry.path), cutoff)]
        for entry in old:
            if self._delete(entry):
                self.tally.temp_removed += 1

    def prune_rows(self) -> None:
        cutoff = self.now - ROW_AGE
        self.tally.pruned_telegram_updates += self._prune(
            TelegramUpdate, TelegramUpdate.received_at < cutoff
        )
        self.tally.pruned_login_attempts += self._prune(
            LoginAttempt, LoginAttempt.created_at < cutoff
        )
        self.tally.pruned_rate_counters += self._prune(
            RateCounter, RateCounter.window_start < cutoff
        )
        self.tally.pruned_pending_photos += self._prune(
            TelegramPendingPhoto, TelegramPendingPhoto.expires_at < cutoff
        )
        self.tally.pruned_telegram_counts += self._prune(
            TelegramDailyCount, TelegramDailyCount.day < cutoff.date()
        )
        self.finish_batch()

    def _prune(self, model: type[Any], condition: sa.ColumnElement[bool]) -> int:
        if self.dry_run:
            return self._count(model, condition)
        return self._execute(sa.delete(model).where(condition))

    def _batches(
        self, query: sa.Select[*tuple[Any, ...]], order: InstrumentedAttribute[Any]
    ) -> Iterator[Sequence[sa.Row[*tuple[Any, ...]]]]:
        """``query``'s rows in batches ordered by ``order``.

        A real run handles each batch before fetching the next, so the rows it finished drop out
        of the query and it needs no paging (only the rows that failed are excluded); a dry run
        changes nothing, so it pages by ``(order, id)``.
        """
        after: tuple[Any, str] | None = None
        while True:
            keys = (order, Job.id) if self.dry_run else (order,)
            page = query.order_by(*keys).limit(self.batch_size)
            if after is not None:
                page = page.where(sa.tuple_(order, Job.id) > sa.tuple_(*after))
            if self.failed_jobs and not self.dry_run:
                page = page.where(Job.id != sa.all_(_array(sorted(self.failed_jobs))))
            rows = self.session.execute(page).all()
            if not rows:
                return
            yield rows
            if self.dry_run:
                last = rows[-1]
                after = (last._mapping[order.key], last.id)

    def _remove_results(self, results: Sequence[tuple[str, str]]) -> list[str]:
        """Delete ``(job_id, result_path)`` folders, several at once since most of the time is
        spent waiting on the disk; returns the job ids whose folder is gone."""
        removed = []
        for (job_id, relative), outcome in zip(
            results, self.pool.map(self._remove_result, results), strict=True
        ):
            if isinstance(outcome, OSError):
                self._failed(relative, outcome)
                self.failed_jobs.add(job_id)
            else:
                self.tally.bytes_freed += outcome
                removed.append(job_id)
        return removed

    def _remove_result(self, result: tuple[str, str]) -> int | OSError:
        """Bytes freed by deleting one result folder, or why it could not be deleted.

        A path that is not ``results/<slot>/<job>`` on this volume is never deleted: it counts as
        gone, so its row is marked cleaned.
        """
        job_id, relative = result
        if not self.store.is_result_relpath(relative):
            log.warning("cleanup.unexpected_result_path", job_id=job_id, result_path=relative)
            return 0
        target = self.store.root / relative
        try:
            if self.dry_run:
                return _size_of(target)
            freed = self.store.remove(relative)
            if os.path.lexists(target):
                raise OSError(f"{relative} is still there after removal")
        except UnsafePath:
            log.warning("cleanup.unexpected_result_path", job_id=job_id, result_path=relative)
            return 0
        except OSError as error:
            return error
        return freed

    def _delete(self, path: Path) -> bool:
        """Delete a file, link or folder tree without following links; False when it failed."""
        size = _size_of(path)
        if not self.dry_run:
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except FileNotFoundError:
                pass
            except OSError as error:
                self._failed(str(path.relative_to(self.store.root)), error)
                return False
        self.tally.bytes_freed += size
        return True

    def _failed(self, relative: str, error: OSError) -> None:
        """Log a file that could not be deleted and go on, unless the volume looks unwritable."""
        self.tally.errors += 1
        log.warning("cleanup.remove_failed", path=relative, error=str(error))
        if self.tally.errors >= MAX_ERRORS:
            raise OSError(f"{self.tally.errors} files could not be deleted; last: {error}")

    def _live_result_paths(self, job_ids: list[str]) -> set[str]:
        rows = self.session.execute(
            sa.select(Job.id, Job.slot_id, Job.status, Job.result_path).where(
                Job.id == _any(job_ids), Job.cleaned_at.is_(None)
            )
        )
        live = set()
        for row in rows:
            if row.result_path is not None:
                live.add(row.result_path)
            if row.status == JobStatus.PENDING:
                live.add(self.store.result_relpath(row.slot_id, row.id))
        return live

    def _execute(self, statement: sa.Executable) -> int:
        """Run a set-based UPDATE or DELETE in the session's transaction; the rows it touched."""
        return self.session.connection().execute(statement).rowcount

    def _count(self, model: type[Any], condition: sa.ColumnElement[bool]) -> int:
        statement = sa.select(sa.func.count()).select_from(model).where(condition)
        return self.session.scalar(statement) or 0


def _array(values: Sequence[str]) -> sa.BindParameter[Sequence[str]]:
    return sa.bindparam(None, values, type_=ARRAY(sa.String))


def _any(values: Sequence[str]) -> Any:
    return sa.any_(_array(values))


def _subdirectories(folder: Path) -> list[Path]:
    """Real sub-folders only: a symlink is never followed into another part of the disk."""
    with os.scandir(folder) as entries:
        return [Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)]


def _older(path: Path, cutoff: float) -> bool:
    """Whether ``path`` (not what a link points at) was last modified before ``cutoff``."""
    try:
        return path.lstat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _size_of(path: Path) -> int:
    """Bytes in a file or folder tree, links not followed; 0 when it is gone."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return 0
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size if stat.S_ISREG(info.st_mode) else 0
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                info = (Path(folder) / name).lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


def run_cleanup_command(config: Config, dry_run: bool = False) -> int:
    """``photochanger cleanup``: 0 when done or skipped, 1 on any failure, 2 without a database."""
    configure_logging(config.log_level)
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
