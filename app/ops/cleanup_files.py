"""Deleting files for the cleanup: result folders, orphaned result folders and stale temp files.

Only ``results/<slot>/<job>`` folders and entries of ``temp/`` are ever deleted, links are never
followed, and a dry run only measures what it would free.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import structlog

from app.ingest.models import Job, JobStatus
from app.media.storage import UnsafePath
from app.ops.cleanup_run import CleanupRun, any_of

log = structlog.get_logger(__name__)

MAX_ERRORS = 100
FILE_AGE = timedelta(hours=1)


def remove_orphans(run: CleanupRun) -> None:
    """Old folders under ``results/<slot>/<job>`` that no live job points at.

    A folder is live while its job row is uncleaned and either names it as its result or is
    still pending (its result is written just before the row is finished).
    """
    if not run.store.results_dir.is_dir():
        return
    cutoff = (run.now - FILE_AGE).timestamp()
    for slot_dir in subdirectories(run.store.results_dir):
        old = [folder for folder in subdirectories(slot_dir) if older(folder, cutoff)]
        for start in range(0, len(old), run.batch_size):
            batch = old[start : start + run.batch_size]
            live = live_result_paths(run, [folder.name for folder in batch])
            for folder in batch:
                relative = f"results/{slot_dir.name}/{folder.name}"
                if relative not in live and delete_path(run, folder):
                    run.tally.orphans_removed += 1
            run.session.rollback()


def remove_temp(run: CleanupRun) -> None:
    """Entries of ``temp/`` older than an hour, which no request can still be writing."""
    if not run.store.temp_dir.is_dir():
        return
    cutoff = (run.now - FILE_AGE).timestamp()
    with os.scandir(run.store.temp_dir) as entries:
        old = [Path(entry.path) for entry in entries if older(Path(entry.path), cutoff)]
    for entry in old:
        if delete_path(run, entry):
            run.tally.temp_removed += 1


def live_result_paths(run: CleanupRun, job_ids: list[str]) -> set[str]:
    rows = run.session.execute(
        sa.select(Job.id, Job.slot_id, Job.status, Job.result_path).where(
            Job.id == any_of(job_ids), Job.cleaned_at.is_(None)
        )
    )
    live = set()
    for row in rows:
        if row.result_path is not None:
            live.add(row.result_path)
        if row.status == JobStatus.PENDING:
            live.add(run.store.result_relpath(row.slot_id, row.id))
    return live


def remove_results(run: CleanupRun, results: Sequence[tuple[str, str]]) -> list[str]:
    """Delete ``(job_id, result_path)`` folders, several at once since most of the time is
    spent waiting on the disk; returns the job ids whose folder is gone."""
    removed = []
    outcomes = run.pool.map(lambda result: remove_result(run, result), results)
    for (job_id, relative), outcome in zip(results, outcomes, strict=True):
        if isinstance(outcome, OSError):
            record_failure(run, relative, outcome)
            run.failed_jobs.add(job_id)
        else:
            run.tally.bytes_freed += outcome
            removed.append(job_id)
    return removed


def remove_result(run: CleanupRun, result: tuple[str, str]) -> int | OSError:
    """Bytes freed by deleting one result folder, or why it could not be deleted.

    A path that is not ``results/<slot>/<job>`` on this volume is never deleted: it counts as
    gone, so its row is marked cleaned.
    """
    job_id, relative = result
    if not run.store.is_result_relpath(relative):
        log.warning("cleanup.unexpected_result_path", job_id=job_id, result_path=relative)
        return 0
    target = run.store.root / relative
    try:
        if run.dry_run:
            return size_of(target)
        freed = run.store.remove(relative)
        if os.path.lexists(target):
            raise OSError(f"{relative} is still there after removal")
    except UnsafePath:
        log.warning("cleanup.unexpected_result_path", job_id=job_id, result_path=relative)
        return 0
    except OSError as error:
        return error
    return freed


def delete_path(run: CleanupRun, path: Path) -> bool:
    """Delete a file, link or folder tree without following links; False when it failed."""
    size = size_of(path)
    if not run.dry_run:
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            record_failure(run, str(path.relative_to(run.store.root)), error)
            return False
    run.tally.bytes_freed += size
    return True


def record_failure(run: CleanupRun, relative: str, error: OSError) -> None:
    """Log a file that could not be deleted and go on, unless the volume looks unwritable."""
    run.tally.errors += 1
    log.warning("cleanup.remove_failed", path=relative, error=str(error))
    if run.tally.errors >= MAX_ERRORS:
        raise OSError(f"{run.tally.errors} files could not be deleted; last: {error}")


def subdirectories(folder: Path) -> list[Path]:
    """Real sub-folders only: a symlink is never followed into another part of the disk."""
    with os.scandir(folder) as entries:
        return [Path(entry.path) for entry in entries if entry.is_dir(follow_symlinks=False)]


def older(path: Path, cutoff: float) -> bool:
    """Whether ``path`` (not what a link points at) was last modified before ``cutoff``."""
    try:
        return path.lstat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def size_of(path: Path) -> int:
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
