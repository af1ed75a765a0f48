"""What the OpenAI driver sends to ``images/edits``: the multipart parts and fields."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.media.images import prepare_image
from app.providers.openai import OpenAIProvider
from tests.support.fakes.openai import API_KEY
from tests.support.openai_driver import PROMPT, SETTINGS, driver, format_of, request_for


def test_photo_then_templates_go_as_image_array_parts_of_the_prepared_jpeg_bytes(fake, http):
    request = request_for(templates=2)
    driver(fake, http).process(request)
    [edit] = fake.edits
    assert [(i.field_name, i.filename, i.content_type) for i in edit.images] == [
        ("image[]", "photo.jpg", "image/jpeg"),
        ("image[]", "template-1.jpg", "image/jpeg"),
        ("image[]", "template-2.jpg", "image/jpeg"),
    ]
    expected = [request.photo.jpeg(), *(t.jpeg() for t in request.templates)]
    assert [i.data for i in edit.images] == expected


def test_request_carries_the_bearer_key_model_prompt_size_and_quality(fake, http):
    settings = {**SETTINGS, "size": "1536x1024", "quality": "high"}
    driver(fake, http).process(request_for(settings))
    [edit] = fake.edits
    assert edit.headers["Authorization"] == f"Bearer {API_KEY}"
    assert edit.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    fields = edit.fields
    assert (fields["model"], fields["prompt"]) == ("gpt-image-1.5", PROMPT)
    assert (fields["size"], fields["quality"]) == ("1536x1024", "high")


def test_model_is_sent_as_gpt_image_1_5_when_the_settings_name_none(fake, http):
    driver(fake, http).process(request_for({"prompt": PROMPT}))
    assert fake.edits[0].fields["model"] == "gpt-image-1.5"


def test_free_text_model_is_sent_as_given(fake, http):
    driver(fake, http).process(request_for({**SETTINGS, "model": "gpt-image-2"}))
    assert fake.edits[0].fields["model"] == "gpt-image-2"


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1.5"])
def test_input_fidelity_is_sent_to_models_that_support_it(fake, http, model):
    driver(fake, http).process(request_for({**SETTINGS, "model": model, "input_fidelity": "high"}))
    assert fake.edits[0].fields["input_fidelity"] == "high"


def test_input_fidelity_is_left_out_for_the_mini_model(fake, http):
    settings = {**SETTINGS, "model": "gpt-image-1-mini", "input_fidelity": "high"}
    result = driver(fake, http).process(request_for(settings))
    assert result.data
    assert "input_fidelity" not in fake.edits[0].fields


def test_input_fidelity_is_not_sent_when_the_slot_leaves_it_unset(fake, http):
    driver(fake, http).process(request_for())
    assert "input_fidelity" not in fake.edits[0].fields


@pytest.mark.parametrize(
    ("mime", "output_format", "pillow_format"),
    [("image/jpeg", "jpeg", "JPEG"), ("image/png", "png", "PNG"), ("image/webp", "webp", "WEBP")],
)
def test_output_format_follows_the_callers_mime(fake, http, mime, output_format, pillow_format):
    result = driver(fake, http).process(request_for(output_mime=mime))
    assert fake.edits[0].fields["output_format"] == output_format
    assert result.data is not None
    assert format_of(result.data) == pillow_format


def test_response_format_is_never_sent(fake, http):
    driver(fake, http).process(request_for())
    assert "response_format" not in fake.edits[0].fields


def test_base_url_spelled_with_v1_like_the_sdk_is_not_doubled(fake, http):
    provider = OpenAIProvider(API_KEY, f"{fake.base_url}/v1/", http)
    assert provider.process(request_for()).data
    assert len(fake.edits) == 1


def test_twelve_megapixel_photo_is_sent_as_at_most_one_megabyte(fake, http):
    width, height = 4000, 3000
    coarse = [Image.effect_noise((width // 16, height // 16), s) for s in (40, 60, 80)]
    scene = Image.merge("RGB", coarse).resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 8).convert("RGB")
    out = io.BytesIO()
    Image.blend(scene, grain, 0.25).save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > 3_000_000
    photo = prepare_image(io.BytesIO(out.getvalue()), "image/jpeg", 10**8, 2048)
    driver(fake, http).process(request_for(photo=photo))
    assert fake.edits[0].body_bytes <= 1_000_000
