"""The fake OpenAI Images API itself: it takes what the SDK sends, refuses what the API refuses."""

from __future__ import annotations

import pytest

from tests.support.fakes.openai import API_KEY, small_image
from tests.support.images import make_image_bytes
from tests.support.openai_driver import PROMPT


def test_fake_accepts_a_single_part_named_image_as_the_sdk_sends_one_file(fake, http):
    response = http.post(
        f"{fake.base_url}/v1/images/edits",
        headers={"Authorization": f"Bearer {API_KEY}"},
        data={"model": "gpt-image-1", "prompt": PROMPT},
        files={"image": ("photo.png", small_image("png"), "image/png")},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["b64_json"]
    assert [i.field_name for i in fake.edits[0].images] == ["image"]


@pytest.mark.parametrize("missing", ["model", "prompt"])
def test_fake_refuses_an_edit_without_model_or_prompt_naming_the_param(fake, http, missing):
    data = {"model": "gpt-image-1", "prompt": PROMPT}
    del data[missing]
    response = http.post(
        f"{fake.base_url}/v1/images/edits",
        headers={"Authorization": f"Bearer {API_KEY}"},
        data=data,
        files={"image[]": ("photo.jpg", make_image_bytes(16, 16), "image/jpeg")},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == missing
    assert fake.edits == []
