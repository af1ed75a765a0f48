"""The cleanup steps for job rows: stuck jobs, expired results and jobs past retention.

Each batch removes its result folders before committing the rows that point at them, so a pass
that dies half-way leaves work the next pass finishes.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.ingest.models import Job, JobStatus, interrupt_jobs
from app.media.models import MediaObject
from app.ops.cleanup_files import remove_results
from app.ops.cleanup_run import CleanupRun, any_of

JOB_AGE = timedelta(days=90)
INTERRUPTED_MESSAGE = (
    "The server process handling this job stopped before it finished (restart, crash or killed "
    "worker); the cleanup marked it interrupted after its deadline had passed."
)


def interrupt_stuck_jobs(run: CleanupRun) -> None:
    """A pending job no longer presumed running means its process died: admission already
    ignores it."""
    stuck = (Job.status == JobStatus.PENDING) & ~Job.presumed_running(run.now)
    if run.dry_run:
        run.tally.interrupted += run.count(Job, stuck)
        return
    run.tally.interrupted += run.execute(interrupt_jobs(stuck, INTERRUPTED_MESSAGE, run.now))
    run.finish_batch()


def expire_results(run: CleanupRun) -> None:
    """Delete the folders of results past their expiry and mark the job and media rows cleaned."""
    expired = Job.expired_result(run.now)
    if run.slot_id is not None:
        expired &= Job.slot_id == run.slot_id
    query = sa.select(Job.id, Job.result_path, Job.result_expires_at).where(expired)
    for rows in run.batches(query, Job.result_expires_at):
        cleaned = remove_results(run, [(row.id, row.result_path) for row in rows])
        if cleaned and not run.dry_run:
            run.execute(sa.update(Job).where(Job.id == any_of(cleaned)).values(cleaned_at=run.now))
            run.execute(
                sa.update(MediaObject)
                .where(MediaObject.job_id == any_of(cleaned), MediaObject.deleted_at.is_(None))
                .values(deleted_at=run.now)
            )
        run.tally.expired_results += len(cleaned)
        run.finish_batch()


def delete_old_jobs(run: CleanupRun) -> None:
    """Job rows past the retention age go, their media rows by cascade, any result first."""
    query = sa.select(
        Job.id, Job.result_path, Job.cleaned_at, Job.result_expires_at, Job.created_at
    ).where(Job.created_at < run.now - JOB_AGE)
    for rows in run.batches(query, Job.created_at):
        no_folder = {row.id for row in rows if row.result_path is None or row.cleaned_at}
        if run.dry_run:  # the expired-results step has already counted these folders
            no_folder |= {
                row.id
                for row in rows
                if row.result_expires_at is not None and row.result_expires_at <= run.now
            }
        leftovers = [(row.id, row.result_path) for row in rows if row.id not in no_folder]
        removed = set(remove_results(run, leftovers))
        deletable = [row.id for row in rows if row.id in no_folder or row.id in removed]
        if deletable and not run.dry_run:
            run.execute(sa.delete(Job).where(Job.id == any_of(deletable)))
        run.tally.pruned_jobs += len(deletable)
        run.finish_batch()
