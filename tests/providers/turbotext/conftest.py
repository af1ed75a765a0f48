"""A loopback Turbotext, the app configured for it, and the driver with links Turbotext can
fetch (served by the live app) or links nobody serves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.config import Config
from app.media.provider_links import ProviderMediaLinks
from app.media.storage import MediaStore
from app.providers.turbotext import TurbotextProvider
from tests.support.fakes.turbotext import FakeTurbotext


@pytest.fixture
def fake() -> Iterator[FakeTurbotext]:
    with FakeTurbotext() as server:
        yield server


@pytest.fixture
def api_key(fake: FakeTurbotext) -> str | None:
    return fake.api_key


@pytest.fixture
def config(make_config: Callable[..., Config], fake: FakeTurbotext, api_key: str | None) -> Config:
    return make_config(turbotext_api_key=api_key, turbotext_api_base=fake.url)


@pytest.fixture
def links(live_server: Any, config: Config) -> ProviderMediaLinks:
    """Links the live app serves: same media root and secret, its own address."""
    return ProviderMediaLinks(MediaStore(config.media_root), "test-secret-key", live_server.url)


@pytest.fixture
def offline_links(tmp_path: Path) -> ProviderMediaLinks:
    """Links nobody serves, for calls that publish nothing Turbotext fetches."""
    return ProviderMediaLinks(MediaStore(tmp_path), "unused-secret", "http://127.0.0.1:9")


@pytest.fixture
def provider(
    fake: FakeTurbotext, links: ProviderMediaLinks, http: requests.Session
) -> TurbotextProvider:
    return TurbotextProvider(fake.api_key, fake.url, http, links, poll_interval=0.05)


@pytest.fixture
def offline_provider(
    fake: FakeTurbotext, offline_links: ProviderMediaLinks, http: requests.Session
) -> TurbotextProvider:
    return TurbotextProvider(fake.api_key, fake.url, http, offline_links)
