"""The Gemini driver facing errors: refusals, rate limits, server failures, garbage and silence."""

from __future__ import annotations

import time

import pytest

from app.providers.base import (
    ProviderError,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from app.providers.gemini import GeminiProvider
from tests.support.fakes.gemini import (
    API_KEY,
    HANG,
    Reply,
    deadline_exceeded_reply,
    dripping,
    error_reply,
    html_reply,
    image_reply,
    internal_reply,
    overloaded_reply,
    rate_limited_reply,
    unknown_model_reply,
)
from tests.support.gemini_driver import png, request_for, run
from tests.support.servers import closed_port_url


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
