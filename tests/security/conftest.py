"""Fixtures for the security tests: a canary file just outside the media volume."""

from __future__ import annotations

from pathlib import Path

import pytest

CANARY_TEXT = "canary-outside-the-media-root-7f3a9c"


@pytest.fixture
def canary(media_root: Path) -> str:
    """A file next to the media volume that no request may ever serve."""
    (media_root.parent / "canary.txt").write_text(CANARY_TEXT)
    (media_root.parent / "payload.png").write_text(CANARY_TEXT)
    return CANARY_TEXT
