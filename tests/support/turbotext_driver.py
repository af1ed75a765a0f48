"""Calling the Turbotext driver in tests: the three methods' slot settings and the request."""

from __future__ import annotations

import io
from typing import Any

from app.deadline import Deadline
from app.media.images import PreparedImage, prepare_image
from app.providers.base import ProviderRequest
from tests.support.images import make_image_bytes

JOB_ID = "job-turbotext-0001"
GENERATE = {"method": "generate_image2image", "prompt": "в костюме супермена"}
MIX = {"method": "mix_images", "prompt": "в стиле диснея"}
DEEPFAKE = {"method": "deepfake_photo", "face_restore": True}


def prepared(image: bytes | None = None) -> PreparedImage:
    data = image or make_image_bytes(320, 240, noise=True)
    return prepare_image(io.BytesIO(data), "image/jpeg", 10**8, 2048)


def request_for(
    settings: dict[str, Any],
    templates: int = 0,
    seconds: float = 3,
    photo: PreparedImage | None = None,
) -> ProviderRequest:
    return ProviderRequest(
        job_id=JOB_ID,
        photo=photo or prepared(),
        templates=[prepared(make_image_bytes(200, 200, color=(9, 9, 9))) for _ in range(templates)],
        settings=settings,
        deadline=Deadline.after(seconds),
        output_mime="image/jpeg",
    )
