"""The Gemini driver pointed at the fake Gemini API on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests

from app.providers.gemini import GeminiProvider
from tests.support.fakes.gemini import API_KEY, GeminiFake


@pytest.fixture
def driver(gemini: GeminiFake, http: requests.Session) -> GeminiProvider:
    return GeminiProvider(API_KEY, gemini.base_url, http)
