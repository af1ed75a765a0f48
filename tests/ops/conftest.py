"""Fixtures of the retention job tests: the clock they run at, a laid-out media volume and
the cleanup lock held by another session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.media.storage import MediaStore
from app.ops.cleanup import LOCK_KEY
from tests.support.database import connected


@pytest.fixture
def now() -> datetime:
    return utcnow()


@pytest.fixture
def store(media_root: Path) -> MediaStore:
    media_store = MediaStore(media_root)
    media_store.ensure_layout()
    return media_store


@pytest.fixture
def lock_held_elsewhere(database_url: str) -> Iterator[None]:
    """The cleanup lock taken by another session, as a second running copy would hold it."""
    with connected(database_url) as connection:
        connection.execute(
            sa.text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"), {"key": LOCK_KEY}
        )
        connection.commit()
        yield
