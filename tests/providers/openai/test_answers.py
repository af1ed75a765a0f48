"""How the OpenAI driver reads ``images/edits`` answers, with a ``b64_json`` image or without."""

from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image

from app.providers.base import ProviderNoImage
from tests.support.fakes.openai import body_answer, edit_body, image_answer, raw_answer, small_image
from tests.support.openai_driver import driver, request_for


def test_answer_image_is_returned_as_the_decoded_b64_json_bytes(fake, http):
    image = small_image("png", (20, 10))
    fake.then(image_answer(image))
    assert driver(fake, http).process(request_for()).data == image


def test_thirty_megabyte_base64_answer_is_returned_whole(fake, http):
    side = 2740
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    image = out.getvalue()
    assert len(base64.b64encode(image)) >= 30_000_000
    fake.then(image_answer(image))
    assert driver(fake, http).process(request_for(seconds=10)).data == image


@pytest.mark.parametrize(
    "data",
    [
        [],
        [{}],
        [{"b64_json": ""}],
        [{"b64_json": None}],
        [{"url": "https://example.invalid/image.png", "revised_prompt": "x"}],
        None,
    ],
    ids=["no-items", "empty-item", "empty-b64", "null-b64", "url-only", "no-data"],
)
def test_answer_without_a_b64_json_image_is_provider_no_image(fake, http, data):
    body = edit_body(None)
    if data is None:
        del body["data"]
    else:
        body["data"] = data
    fake.then(body_answer(200, body))
    with pytest.raises(ProviderNoImage, match="b64_json"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_answer_with_invalid_base64_is_provider_no_image(fake, http):
    fake.then(body_answer(200, edit_body("not base64 at all!")))
    with pytest.raises(ProviderNoImage, match="base64"):
        driver(fake, http).process(request_for())


def test_200_answer_that_is_not_json_is_provider_no_image_without_retrying(fake, http):
    fake.then(raw_answer(200, "<html><body>Welcome to nginx!</body></html>"))
    with pytest.raises(ProviderNoImage, match="not a JSON object"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_200_answer_with_a_json_list_is_provider_no_image(fake, http):
    fake.then(body_answer(200, [{"b64_json": "AAAA"}]))
    with pytest.raises(ProviderNoImage):
        driver(fake, http).process(request_for())
