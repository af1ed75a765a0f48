"""A fake OpenAI Images API on 127.0.0.1 for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fakes.openai import FakeOpenAI, running_fake


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running_fake() as fake:
        yield fake
