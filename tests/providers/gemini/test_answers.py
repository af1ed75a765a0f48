"""How the Gemini driver reads generateContent answers, with an image or without one."""

from __future__ import annotations

import io
import os
import time

import pytest
from PIL import Image

from app.providers.base import ProviderBlocked, ProviderNoImage
from tests.support.fakes.gemini import (
    candidates_reply,
    image_blocked_reply,
    image_reply,
    no_image_reply,
    prompt_blocked_reply,
    snake_case_image_reply,
    text_only_reply,
    thought_image_reply,
    thoughts_only_reply,
)
from tests.support.gemini_driver import png, run

BLOCKING_REASONS = (
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "IMAGE_OTHER",
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
)


def test_image_after_a_text_part_is_returned(driver, gemini):
    image = png()
    assert run(driver, gemini, image_reply(image)) == image


def test_final_image_is_returned_and_not_the_thought_drafts(driver, gemini):
    final = png(color=(1, 2, 3))
    drafts = [png(color=(200, 0, 0)), png(color=(0, 200, 0))]
    assert run(driver, gemini, thought_image_reply(drafts, final)) == final


def test_snake_case_answer_is_understood(driver, gemini):
    image = png()
    assert run(driver, gemini, snake_case_image_reply(image)) == image


def test_last_image_across_all_candidates_is_returned(driver, gemini):
    last = png(color=(9, 9, 9))
    assert run(driver, gemini, candidates_reply(png(), last)) == last


def test_image_answer_of_30_mb_base64_is_returned_whole(driver, gemini):
    big = Image.frombytes("RGB", (2600, 2900), os.urandom(2600 * 2900 * 3))
    out = io.BytesIO()
    big.save(out, "PNG", compress_level=0)
    image = out.getvalue()
    assert len(image) * 4 / 3 > 30_000_000
    assert run(driver, gemini, image_reply(image), seconds=15) == image


@pytest.mark.parametrize("reason", BLOCKING_REASONS)
def test_blocked_output_is_provider_blocked_naming_the_reason(driver, gemini, reason):
    with pytest.raises(ProviderBlocked, match=reason):
        run(driver, gemini, image_blocked_reply(reason))
    assert len(gemini.calls) == 1


def test_blocked_prompt_without_candidates_is_provider_blocked(driver, gemini):
    with pytest.raises(ProviderBlocked, match="PROHIBITED_CONTENT"):
        run(driver, gemini, prompt_blocked_reply("PROHIBITED_CONTENT"))
    assert len(gemini.calls) == 1


def test_text_only_answer_is_asked_again_after_a_short_pause(driver, gemini):
    image = png()
    assert run(driver, gemini, text_only_reply(), image_reply(image)) == image
    first, second = gemini.calls
    assert 0.9 <= second.at - first.at < 2


def test_no_image_finish_reason_is_asked_again(driver, gemini):
    image = png()
    assert run(driver, gemini, no_image_reply(), image_reply(image)) == image
    assert len(gemini.calls) == 2


def test_only_thought_images_count_as_no_image(driver, gemini):
    image = png()
    assert run(driver, gemini, thoughts_only_reply(), image_reply(image)) == image
    assert len(gemini.calls) == 2


def test_text_only_answers_until_the_deadline_end_in_provider_no_image(driver, gemini):
    started = time.monotonic()
    with pytest.raises(ProviderNoImage, match="without an image"):
        run(driver, gemini, text_only_reply(), seconds=3)
    assert time.monotonic() - started < 3
    assert len(gemini.calls) >= 2


def test_no_image_answers_stop_after_five_even_with_time_left(driver, gemini):
    with pytest.raises(ProviderNoImage, match="5 answers"):
        run(driver, gemini, no_image_reply(), seconds=30)
    assert len(gemini.calls) == 5
