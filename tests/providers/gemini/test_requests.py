"""What the Gemini driver sends: the generateContent request on the wire."""

from __future__ import annotations

import pytest

from tests.support.fakes.gemini import API_KEY
from tests.support.gemini_driver import PROMPT, prepared, request_for, run, size_of


def test_request_is_posted_to_the_model_path_with_a_literal_colon(driver, gemini):
    run(driver, gemini, settings={"model": "gemini-3-pro-image-preview"})
    [call] = gemini.calls
    assert call.method == "POST"
    assert call.raw_uri == "/v1beta/models/gemini-3-pro-image-preview:generateContent"


def test_api_key_travels_in_the_header_and_never_in_the_url(driver, gemini):
    run(driver, gemini)
    [call] = gemini.calls
    assert call.headers["x-goog-api-key"] == API_KEY
    assert API_KEY not in call.raw_uri
    assert call.query == {}
    assert call.headers["content-type"] == "application/json"


def test_photo_goes_as_base64_jpeg_followed_by_the_prompt(driver, gemini):
    request = request_for()
    driver.process(request)
    [call] = gemini.calls
    assert [set(part) for part in call.parts] == [{"inlineData"}, {"text"}]
    assert call.parts[0]["inlineData"]["mimeType"] == "image/jpeg"
    assert call.images == [request.photo.jpeg()]
    assert call.prompt == PROMPT
    assert call.body["contents"][0]["role"] == "user"


def test_templates_are_sent_after_the_photo_and_before_the_prompt(driver, gemini):
    templates = [prepared(100, 80, color=(0, 0, 255)), prepared(90, 60, color=(0, 255, 0))]
    request = request_for(templates=templates, photo=prepared(320, 240, color=(255, 0, 0)))
    driver.process(request)
    [call] = gemini.calls
    assert [size_of(image) for image in call.images] == [(320, 240), (100, 80), (90, 60)]
    assert "text" in call.parts[-1]
    assert call.prompt == PROMPT


def test_only_image_output_is_asked_for(driver, gemini):
    run(driver, gemini)
    assert gemini.calls[0].body["generationConfig"]["responseModalities"] == ["IMAGE"]


@pytest.mark.parametrize("model", ["gemini-2.5-flash-image", "gemini-3.1-flash-image-preview"])
def test_aspect_ratio_other_than_auto_is_sent_to_every_model(driver, gemini, model):
    run(driver, gemini, settings={"model": model, "aspect_ratio": "3:2"})
    assert gemini.calls[0].body["generationConfig"]["imageConfig"] == {"aspectRatio": "3:2"}


def test_auto_aspect_ratio_sends_no_image_config(driver, gemini):
    run(driver, gemini, settings={"aspect_ratio": "auto"})
    assert gemini.calls[0].body["generationConfig"] == {"responseModalities": ["IMAGE"]}


def test_image_size_is_sent_to_gemini_3_models(driver, gemini):
    settings = {"model": "gemini-3-pro-image-preview", "aspect_ratio": "16:9", "image_size": "2K"}
    run(driver, gemini, settings=settings)
    image_config = gemini.calls[0].body["generationConfig"]["imageConfig"]
    assert image_config == {"aspectRatio": "16:9", "imageSize": "2K"}


def test_image_size_is_never_sent_to_gemini_2_5(driver, gemini):
    run(driver, gemini, settings={"model": "gemini-2.5-flash-image", "image_size": "2K"})
    assert "imageConfig" not in gemini.calls[0].body["generationConfig"]


def test_safety_settings_are_sent_when_set(driver, gemini):
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    run(driver, gemini, settings={"safety_settings": safety})
    assert gemini.calls[0].body["safetySettings"] == safety


def test_no_safety_settings_are_sent_by_default(driver, gemini):
    run(driver, gemini)
    assert set(gemini.calls[0].body) == {"contents", "generationConfig"}


def test_default_model_is_used_and_reported_when_the_settings_name_none(driver, gemini):
    run(driver, gemini)
    assert gemini.calls[0].model == "gemini-2.5-flash-image"
    assert driver.model_of({"prompt": PROMPT}) == "gemini-2.5-flash-image"
