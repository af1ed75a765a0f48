"""Calling the OpenAI driver in tests: the slot settings, the request it gets, the driver itself."""

from __future__ import annotations

import io
from collections.abc import Mapping

import requests
from PIL import Image

from app.deadline import Deadline
from app.media.images import PreparedImage, prepare_image
from app.providers.base import ProviderRequest
from app.providers.openai import OpenAIProvider
from tests.support.fakes.openai import API_KEY, FakeOpenAI
from tests.support.images import make_image_bytes

PROMPT = "Put the guest on a beach at sunset; keep the face exactly as it is."
SETTINGS = {"model": "gpt-image-1.5", "prompt": PROMPT, "size": "auto", "quality": "auto"}


def prepared(width: int = 320, height: int = 240, color=(200, 120, 50)) -> PreparedImage:
    data = make_image_bytes(width, height, color=color)
    return prepare_image(io.BytesIO(data), "image/jpeg", 10**8, 2048)


def request_for(
    settings: Mapping[str, object] | None = None,
    *,
    templates: int = 0,
    seconds: float = 3.0,
    output_mime: str = "image/jpeg",
    photo: PreparedImage | None = None,
) -> ProviderRequest:
    return ProviderRequest(
        job_id="j" * 22,
        photo=photo or prepared(),
        templates=[prepared(64, 64, (10 * n, 50, 90)) for n in range(templates)],
        settings=dict(SETTINGS if settings is None else settings),
        deadline=Deadline.after(seconds),
        output_mime=output_mime,
    )


def driver(fake: FakeOpenAI, http: requests.Session, key: str | None = API_KEY) -> OpenAIProvider:
    return OpenAIProvider(key, fake.base_url, http)


def format_of(data: bytes) -> str | None:
    return Image.open(io.BytesIO(data)).format
