"""The state of one cleanup pass and the database helpers its steps share."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.ingest.models import Job
from app.media.storage import MediaStore
from app.ops.cleanup_summary import CleanupSummary


@dataclass
class CleanupRun:
    """One pass holding the cleanup lock. ``slot_id`` limits it to one slot's results;
    ``failed_jobs`` are jobs whose result folder could not be removed, skipped for the rest of
    the pass."""

    session: Session
    store: MediaStore
    pool: ThreadPoolExecutor
    now: datetime
    dry_run: bool
    batch_size: int
    started: float
    slot_id: str | None = None
    tally: CleanupSummary = field(init=False)
    failed_jobs: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.tally = CleanupSummary(dry_run=self.dry_run)

    def summary(self) -> CleanupSummary:
        return replace(self.tally, seconds=time.monotonic() - self.started)

    def finish_batch(self) -> None:
        if self.dry_run:
            self.session.rollback()
        else:
            self.session.commit()

    def execute(self, statement: sa.Executable) -> int:
        """Run a set-based UPDATE or DELETE in the session's transaction; the rows it touched."""
        return self.session.connection().execute(statement).rowcount

    def count(self, model: type[Any], condition: sa.ColumnElement[bool]) -> int:
        statement = sa.select(sa.func.count()).select_from(model).where(condition)
        return self.session.scalar(statement) or 0

    def batches(
        self, query: sa.Select[*tuple[Any, ...]], order: InstrumentedAttribute[Any]
    ) -> Iterator[Sequence[sa.Row[*tuple[Any, ...]]]]:
        """``query``'s job rows in batches ordered by ``order``.

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
                page = page.where(Job.id != sa.all_(text_array(sorted(self.failed_jobs))))
            rows = self.session.execute(page).all()
            if not rows:
                return
            yield rows
            if self.dry_run:
                last = rows[-1]
                after = (last._mapping[order.key], last.id)


def text_array(values: Sequence[str]) -> sa.BindParameter[Sequence[str]]:
    """One array parameter, so a batch of ids is a single bind whatever its length."""
    return sa.bindparam(None, values, type_=ARRAY(sa.String))


def any_of(values: Sequence[str]) -> Any:
    """``column == any_of(ids)``: ``= ANY(:ids)``."""
    return sa.any_(text_array(values))
