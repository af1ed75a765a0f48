"""The three Turbotext methods: what each sends and which image goes where."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.providers.base import ProviderRejected
from app.providers.turbotext import TurbotextProvider
from tests.support.turbotext_driver import DEEPFAKE, GENERATE, MIX, prepared, request_for


def twelve_megapixel_photo() -> bytes:
    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    texture = Image.effect_noise((width, height), 20)
    mirrored = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out = io.BytesIO()
    Image.merge("RGB", [gradient, texture, mirrored]).save(out, "JPEG", quality=92)
    return out.getvalue()


def test_generate_image2image_sends_the_photo_link_and_prompt_and_returns_the_result(
    provider, fake
):
    request = request_for({**GENERATE, "strength": 50, "seed": 42, "scale": 7.5})
    result = provider.process(request)
    assert result.data == fake.behaviour.result_image
    form = fake.calls_of("create_queue", "generate_image2image")[0].form
    assert form["content"] == "в костюме супермена"
    assert (form["strength"], form["seed"], form["scale"]) == ("50", "42", "7.5")
    assert fake.fetched_field("url").body == request.photo.jpeg()


def test_mix_images_sends_the_photo_as_target_and_the_template_as_style_source(provider, fake):
    request = request_for(MIX, templates=1)
    provider.process(request)
    form = fake.calls_of("create_queue", "mix_images")[0].form
    assert form["content"] == "в стиле диснея"
    assert fake.fetched_field("url_image_target").body == request.photo.jpeg()
    assert fake.fetched_field("url").body == request.templates[0].jpeg()


def test_deepfake_photo_sends_the_photo_as_url_and_the_face_as_target(provider, fake):
    request = request_for(DEEPFAKE, templates=1)
    provider.process(request)
    assert fake.calls_of("create_queue", "deepfake_photo")[0].form["face_restore"] == "True"
    assert fake.fetched_field("url").body == request.photo.jpeg()
    assert fake.fetched_field("url_image_target").body == request.templates[0].jpeg()


@pytest.mark.parametrize("settings", [MIX, DEEPFAKE], ids=["mix_images", "deepfake_photo"])
def test_a_method_needing_a_template_is_rejected_without_one_before_calling_turbotext(
    offline_provider, fake, settings
):
    with pytest.raises(ProviderRejected, match="template"):
        offline_provider.process(request_for(settings))
    assert fake.calls == []


def test_requests_are_form_encoded_with_the_bearer_key(provider, fake):
    provider.process(request_for(GENERATE))
    assert {call.authorization for call in fake.calls} == {f"Bearer {fake.api_key}"}
    assert [call.form["do"] for call in fake.calls] == ["create_queue", "get_result", "get_result"]


def test_a_wrong_key_is_a_provider_error_naming_the_key(fake, offline_links, http):
    provider = TurbotextProvider("wrong", fake.url, http, offline_links)
    with pytest.raises(ProviderRejected, match="API key"):
        provider.process(request_for(GENERATE))
    assert fake.queues == {}


def test_a_twelve_megapixel_photo_reaches_turbotext_as_a_jpeg_under_1_mb(provider, fake):
    photo = prepared(twelve_megapixel_photo())
    provider.process(request_for(GENERATE, photo=photo))
    fetched = fake.fetched_field("url")
    assert fetched.mime == "image/jpeg"
    assert len(fetched.body) <= 1024 * 1024
    assert max(Image.open(io.BytesIO(fetched.body)).size) <= 2048
