"""The Gemini driver against a fake Gemini API on 127.0.0.1 speaking protocols.md §1."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy.orm import Session

from app.config import Config
from app.db import utcnow
from app.deadline import Deadline
from app.ingest.models import Job
from app.media.images import PreparedImage, decode_image
from app.providers.base import (
    KeyCheck,
    ProviderBlocked,
    ProviderError,
    ProviderNoImage,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderRequest,
    ProviderTimeout,
    ProviderUnavailable,
)
from app.providers.gemini import GeminiProvider
from app.settings.service import save_settings
from tests.support.fakes.gemini import (
    API_KEY,
    HANG,
    GeminiFake,
    Reply,
    candidates_reply,
    deadline_exceeded_reply,
    dripping,
    error_reply,
    html_reply,
    image_blocked_reply,
    image_reply,
    internal_reply,
    no_image_reply,
    overloaded_reply,
    prompt_blocked_reply,
    rate_limited_reply,
    snake_case_image_reply,
    text_only_reply,
    thought_image_reply,
    thoughts_only_reply,
    unknown_model_reply,
)
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.servers import closed_port_url
from tests.support.stored import files_under, only_job, use_provider

PROMPT = "Replace the background with a sunny beach. Keep every face and pose unchanged."
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


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (20, 160, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def prepared(width: int = 320, height: int = 240, **kwargs: Any) -> PreparedImage:
    data = make_image_bytes(width, height, **kwargs)
    return decode_image(io.BytesIO(data), "image/jpeg", 10**8, 2048)


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


@pytest.fixture
def driver(gemini: GeminiFake, http: requests.Session) -> GeminiProvider:
    return GeminiProvider(API_KEY, gemini.base_url, http)


def run(driver: GeminiProvider, gemini: GeminiFake, *replies: Reply, **kwargs: Any) -> bytes:
    gemini.script(*replies)
    data = driver.process(request_for(**kwargs)).data
    assert data is not None
    return data


# --- the request on the wire ---------------------------------------------------------------


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
    assert call.images == [request.photo.encoded("image/jpeg", 90)]
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


# --- reading the answer ----------------------------------------------------------------------


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


# --- answers without an image -------------------------------------------------------------------


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


# --- errors -----------------------------------------------------------------------------------


def test_bad_api_key_is_rejected_as_api_key_not_valid(gemini, http):
    driver = GeminiProvider("AIza-wrong-key", gemini.base_url, http)
    with pytest.raises(ProviderRejected, match="API key not valid"):
        driver.process(request_for())
    assert gemini.calls == []


def test_bad_argument_is_rejected_with_googles_message(driver, gemini):
    reply = error_reply(400, "FAILED_PRECONDITION", "User location is not supported for the API.")
    with pytest.raises(ProviderRejected, match="User location is not supported"):
        run(driver, gemini, reply)
    assert len(gemini.calls) == 1


def test_permission_denied_is_rejected_with_googles_message(driver, gemini):
    reply = error_reply(403, "PERMISSION_DENIED", "Your API key was reported as leaked.")
    with pytest.raises(ProviderRejected, match="reported as leaked"):
        run(driver, gemini, reply)
    assert len(gemini.calls) == 1


def test_unknown_model_is_rejected_with_googles_message(driver, gemini):
    with pytest.raises(ProviderRejected, match="models/gemini-9-image is not found"):
        run(
            driver,
            gemini,
            unknown_model_reply("gemini-9-image"),
            settings={"model": "gemini-9-image"},
        )
    assert len(gemini.calls) == 1


def test_rate_limit_waits_the_fractional_retry_delay_then_succeeds(driver, gemini):
    image = png()
    assert run(driver, gemini, rate_limited_reply("0.75s"), image_reply(image)) == image
    first, second = gemini.calls
    assert 0.75 <= second.at - first.at < 1.2


def test_rate_limit_longer_than_the_time_left_is_unavailable_at_once(driver, gemini):
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match=r"wait 45\.84 s"):
        run(driver, gemini, rate_limited_reply("45.837906927s"), seconds=10)
    assert time.monotonic() - started < 1
    assert len(gemini.calls) == 1


def test_daily_quota_is_unavailable_without_retrying(driver, gemini):
    reply = rate_limited_reply("0.2s", quota_id="GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    with pytest.raises(ProviderUnavailable, match="daily quota"):
        run(driver, gemini, reply)
    assert len(gemini.calls) == 1


@pytest.mark.parametrize(
    "failure",
    [internal_reply(), overloaded_reply(), deadline_exceeded_reply(), html_reply(502)],
    ids=["500", "503", "504", "502-html"],
)
def test_transient_server_error_is_retried(driver, gemini, failure):
    image = png()
    assert run(driver, gemini, failure, image_reply(image)) == image
    assert len(gemini.calls) == 2


def test_server_errors_until_the_deadline_end_in_provider_unavailable(driver, gemini):
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="overloaded"):
        run(driver, gemini, overloaded_reply(), seconds=2.5)
    assert time.monotonic() - started < 2.5
    assert len(gemini.calls) >= 2


def test_html_error_page_is_unavailable_with_a_clear_message(driver, gemini):
    with pytest.raises(ProviderUnavailable, match=r"HTTP 503.*text/html"):
        run(driver, gemini, html_reply(503), seconds=1.5)


def test_unreachable_server_is_provider_unavailable(http):
    driver = GeminiProvider(API_KEY, closed_port_url(), http)
    with pytest.raises(ProviderUnavailable, match="Could not reach gemini"):
        driver.process(request_for(seconds=2))


def test_garbage_200_is_a_provider_error_and_not_retried(driver, gemini):
    garbage = Reply(200, b"<html>Welcome to the hotel Wi-Fi</html>", "text/html")
    with pytest.raises(ProviderError, match=r"not a JSON object.*text/html") as raised:
        run(driver, gemini, garbage)
    assert raised.value.failure_reason == "provider_error"
    assert len(gemini.calls) == 1


def test_image_data_that_is_not_an_image_is_a_provider_error(driver, gemini):
    with pytest.raises(ProviderError, match="not a JPEG, PNG or WEBP"):
        run(driver, gemini, image_reply(b"definitely not an image"))


def test_silent_server_times_out_at_the_deadline(driver, gemini):
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        run(driver, gemini, HANG, seconds=1.5)
    assert 1.4 <= time.monotonic() - started < 2


def test_answer_dripping_a_byte_at_a_time_times_out_at_the_deadline(driver, gemini):
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        run(driver, gemini, dripping(image_reply(), seconds=0.5), seconds=1.5)
    assert 1.4 <= time.monotonic() - started < 2.1
    assert len(gemini.generate_calls) == 1


def test_answer_larger_than_the_cap_is_a_provider_error(gemini, http):
    driver = GeminiProvider(API_KEY, gemini.base_url, http, max_answer_bytes=1000)
    with pytest.raises(ProviderError, match=r"the cap is 1000|more than 1000 bytes") as raised:
        run(driver, gemini, image_reply(png(400, 300)))
    assert type(raised.value) is ProviderError
    assert raised.value.failure_reason == "provider_error"


def test_settings_without_a_prompt_are_rejected_without_calling_gemini(driver, gemini):
    request = request_for()
    request.settings.pop("prompt")
    with pytest.raises(ProviderRejected, match="no prompt"):
        driver.process(request)
    assert gemini.calls == []


def test_missing_key_is_not_configured_and_calls_nobody(gemini, http):
    driver = GeminiProvider(None, gemini.base_url, http)
    assert not driver.is_configured()
    with pytest.raises(ProviderNotConfigured):
        driver.process(request_for())
    assert gemini.calls == []


# --- check_key ---------------------------------------------------------------------------------


def test_check_key_lists_one_model_with_the_key_in_the_header(driver, gemini):
    assert driver.check_key(Deadline.after(3)) == KeyCheck.OK
    [call] = gemini.calls
    assert (call.method, call.path, call.query) == ("GET", "/v1beta/models", {"pageSize": "1"})
    assert call.headers["x-goog-api-key"] == API_KEY


def test_check_key_reports_a_wrong_key_as_invalid(gemini, http):
    driver = GeminiProvider("AIza-wrong-key", gemini.base_url, http)
    assert driver.check_key(Deadline.after(3)) == KeyCheck.INVALID


def test_check_key_reports_permission_denied_as_invalid(driver, gemini):
    gemini.script(error_reply(403, "PERMISSION_DENIED", "Your API key was reported as leaked."))
    assert driver.check_key(Deadline.after(3)) == KeyCheck.INVALID


def test_check_key_counts_a_rate_limited_key_as_accepted(driver, gemini):
    gemini.script(rate_limited_reply("30s"))
    assert driver.check_key(Deadline.after(3)) == KeyCheck.OK


def test_check_key_reports_a_server_error_as_unreachable(driver, gemini):
    gemini.script(overloaded_reply())
    assert driver.check_key(Deadline.after(3)) == KeyCheck.UNREACHABLE
    assert len(gemini.calls) == 1


def test_check_key_reports_a_refused_connection_as_unreachable(http):
    driver = GeminiProvider(API_KEY, closed_port_url(), http)
    assert driver.check_key(Deadline.after(3)) == KeyCheck.UNREACHABLE


def test_check_key_without_a_key_is_missing_and_calls_nobody(gemini, http):
    assert GeminiProvider(None, gemini.base_url, http).check_key(Deadline.after(3)) == "missing"
    assert gemini.calls == []


# --- through the ingest route ------------------------------------------------------------------


@pytest.fixture
def gemini_key() -> str | None:
    return API_KEY


@pytest.fixture
def config(
    make_config: Callable[..., Config], gemini: GeminiFake, gemini_key: str | None
) -> Config:
    return make_config(gemini_api_key=gemini_key, gemini_api_base=gemini.base_url)


def use_gemini(db_session: Session, **settings: Any) -> None:
    use_provider(
        db_session, "gemini", {"model": "gemini-2.5-flash-image", "prompt": PROMPT, **settings}
    )


def test_booth_photo_comes_back_as_the_gemini_image_in_the_booths_format(
    live_server, http, jpeg, db_session, gemini
):
    use_gemini(db_session, aspect_ratio="4:3")
    gemini.script(image_reply(png(160, 120)))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/jpeg"
    assert size_of(response.content) == (160, 120)
    job = only_job(db_session)
    assert (job.id, job.status) == (response.headers["X-Job-Id"], "done")
    assert (job.provider, job.model) == ("gemini", "gemini-2.5-flash-image")
    assert job.provider_ms is not None
    [call] = gemini.calls
    assert call.body["generationConfig"]["imageConfig"] == {"aspectRatio": "4:3"}


def test_12_megapixel_photo_reaches_gemini_downscaled_under_1_mb(
    live_server, http, db_session, gemini
):
    use_gemini(db_session)
    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    photo = Image.blend(Image.merge("RGB", [gradient, gradient, gradient]), noise, 0.1)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92)
    assert len(out.getvalue()) > 3_000_000
    response = post_photo(http, ingest_url(live_server.url), out.getvalue())
    assert response.status_code == 200, response.text
    [sent] = gemini.calls[0].images
    assert len(sent) <= 1_000_000
    assert max(size_of(sent)) <= 2048


def test_blocked_photo_is_502_provider_blocked(live_server, http, jpeg, db_session, gemini):
    use_gemini(db_session)
    gemini.script(image_blocked_reply("IMAGE_SAFETY"))
    body = assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_blocked"
    )
    assert "IMAGE_SAFETY" in body["message"]
    assert only_job(db_session).failure_reason == "provider_blocked"


def test_overloaded_gemini_is_503_provider_unavailable_after_retries(
    live_server, http, jpeg, db_session, gemini
):
    use_gemini(db_session)
    gemini.script(overloaded_reply(), overloaded_reply(), rate_limited_reply("60s"))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert_error(response, 503, "provider_unavailable")
    assert len(gemini.calls) == 3
    assert only_job(db_session).failure_reason == "provider_unavailable"


def test_bad_key_is_502_provider_error_saying_so(live_server, http, jpeg, db_session, gemini):
    gemini.api_key = "AIza-the-real-key-is-another"
    use_gemini(db_session)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 502, "provider_error")
    assert "API key not valid" in body["message"]
    assert API_KEY not in body["message"]


def test_gemini_never_answering_is_504_at_the_deadline_with_no_files_left(
    live_server, http, jpeg, db_session, config, media_root, gemini
):
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_gemini(db_session)
    gemini.script(HANG)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert files_under(media_root) == []


def test_gemini_dripping_its_answer_is_504_at_the_deadline_with_no_files_left(
    live_server, http, jpeg, db_session, config, media_root, gemini
):
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_gemini(db_session)
    gemini.script(dripping(image_reply(png(160, 120)), seconds=0.5))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert files_under(media_root) == []


@pytest.mark.parametrize("gemini_key", [None])
def test_no_key_is_503_provider_not_configured(live_server, http, jpeg, db_session, gemini):
    use_gemini(db_session)
    assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 503, "provider_not_configured"
    )
    assert gemini.calls == []


def test_provider_limit_reached_on_another_slot_is_429_provider_busy(
    live_server, http, jpeg, db_session, config, gemini
):
    save_settings(db_session, config, {"provider_concurrency": 1}, "tests")
    use_gemini(db_session)
    db_session.add(
        Job(
            id="g" * 22,
            slot_id="slot-002",
            source="ingest",
            status="pending",
            provider="gemini",
            deadline_at=utcnow() + timedelta(seconds=30),
        )
    )
    db_session.commit()
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert_error(response, 429, "provider_busy")
    assert int(response.headers["Retry-After"]) > 0
    assert gemini.calls == []
