from __future__ import annotations

import io
import time

import pytest
from PIL import Image, ImageChops

from app.deadline import Deadline
from app.media.images import prepare_image
from app.providers.base import ProviderRejected, ProviderRequest, ProviderTimeout
from app.providers.local import STYLES, LocalProvider
from tests.support.images import make_image_bytes


def request_for(settings: dict[str, object], seconds: float = 10) -> ProviderRequest:
    photo = prepare_image(
        io.BytesIO(make_image_bytes(320, 240, noise=True)), "image/jpeg", 10**7, 2048
    )
    return ProviderRequest(
        job_id="j" * 22,
        photo=photo,
        templates=[],
        settings=settings,
        deadline=Deadline.after(seconds),
        output_mime="image/jpeg",
    )


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_changes_the_photo_and_keeps_its_size(style):
    request = request_for({"style": style})
    result = LocalProvider().process(request)
    assert result.image is not None
    assert result.image.size == request.photo.size
    original = request.photo.image.convert("RGB")
    assert ImageChops.difference(result.image.convert("RGB"), original).getbbox() is not None


def test_offers_at_least_the_four_styles_of_the_spec():
    assert {"sepia", "bw", "pencil", "pop_art", "cartoon", "vignette"} <= set(STYLES)


def test_unknown_style_is_rejected_as_a_provider_error():
    with pytest.raises(ProviderRejected, match="no style"):
        LocalProvider().process(request_for({"style": "watercolour"}))


def test_delay_is_waited_before_answering():
    started = time.monotonic()
    LocalProvider().process(request_for({"style": "bw", "delay_seconds": 0.3}))
    assert time.monotonic() - started >= 0.3


def test_delay_longer_than_the_deadline_times_out_at_the_deadline():
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        LocalProvider().process(request_for({"style": "bw", "delay_seconds": 5}, seconds=0.4))
    assert 0.35 <= time.monotonic() - started < 1.0


def test_result_is_an_rgb_image():
    result = LocalProvider().process(request_for({"style": "sepia"}))
    assert isinstance(result.image, Image.Image)
    assert result.image.mode == "RGB"
