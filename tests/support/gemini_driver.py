"""Calling the Gemini driver in tests: the request it gets, sample images, one scripted run."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from app.deadline import Deadline
from app.media.images import PreparedImage, prepare_image
from app.providers.base import ProviderRequest
from app.providers.gemini import GeminiProvider
from tests.support.fakes.gemini import GeminiFake, Reply
from tests.support.images import make_image_bytes

PROMPT = "Replace the background with a sunny beach. Keep every face and pose unchanged."


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (20, 160, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def prepared(width: int = 320, height: int = 240, **kwargs: Any) -> PreparedImage:
    data = make_image_bytes(width, height, **kwargs)
    return prepare_image(io.BytesIO(data), "image/jpeg", 10**8, 2048)


def request_for(
    settings: dict[str, Any] | None = None,
    *,
    templates: list[PreparedImage] | None = None,
    seconds: float = 4,
    photo: PreparedImage | None = None,
) -> ProviderRequest:
    return ProviderRequest(
        job_id="j" * 22,
        photo=photo or prepared(noise=True),
        templates=templates or [],
        settings={"prompt": PROMPT, **(settings or {})},
        deadline=Deadline.after(seconds),
        output_mime="image/jpeg",
    )


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def run(driver: GeminiProvider, gemini: GeminiFake, *replies: Reply, **kwargs: Any) -> bytes:
    gemini.script(*replies)
    data = driver.process(request_for(**kwargs)).data
    assert data is not None
    return data
