"""Short-lived connections of a test's own to a database by URL (the engine is disposed after)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from app.db import make_engine


@contextmanager
def connected(url: str) -> Iterator[sa.Connection]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def alembic_revision(url: str) -> str | None:
    """The migration the database at ``url`` is at (None before the first)."""
    with connected(url) as connection:
        revision: str | None = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
        return revision
