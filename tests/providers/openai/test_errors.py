"""The OpenAI driver facing errors: refusals, rate limits, retries, silence and dead servers."""

from __future__ import annotations

import time

import pytest

from app.providers.base import (
    ProviderBlocked,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from app.providers.openai import OpenAIProvider
from tests.support.fakes.openai import (
    API_KEY,
    error_answer,
    insufficient_quota,
    moderation_blocked,
    rate_limited,
    raw_answer,
    server_error,
)
from tests.support.openai_driver import SETTINGS, driver, request_for
from tests.support.servers import closed_port_url


def test_moderation_block_is_provider_blocked_with_openais_reason(fake, http):
    fake.then(moderation_blocked())
    with pytest.raises(ProviderBlocked, match=r"safety_violations=\[sexual\]"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_other_400_is_provider_rejected_naming_the_param(fake, http):
    fake.then(
        error_answer(400, "Invalid size for this model.", "invalid_request_error", None, "size")
    )
    with pytest.raises(ProviderRejected, match="'size'") as raised:
        driver(fake, http).process(request_for())
    assert "Invalid size for this model." in raised.value.message
    assert len(fake.edits) == 1


def test_unknown_model_is_provider_rejected_naming_the_model_param(fake, http):
    with pytest.raises(ProviderRejected, match=r"'model'.*gpt-image-9"):
        driver(fake, http).process(request_for({**SETTINGS, "model": "gpt-image-9"}))


def test_refused_key_is_provider_rejected_without_echoing_any_part_of_the_key(fake, http):
    with pytest.raises(ProviderRejected, match="did not accept the API key") as raised:
        driver(fake, http, key="sk-wrong-key-7777").process(request_for())
    assert "7777" not in raised.value.message
    assert fake.edits == []


def test_other_4xx_html_page_is_provider_rejected_with_its_status(fake, http):
    fake.then(raw_answer(403, "<html><h1>403 Forbidden</h1></html>"))
    with pytest.raises(ProviderRejected, match="HTTP 403"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_rate_limit_is_retried_after_the_retry_after_ms_wait(fake, http):
    fake.then(rate_limited({"retry-after-ms": "400"}))
    started = time.monotonic()
    assert driver(fake, http).process(request_for()).data
    assert time.monotonic() - started >= 0.4
    assert len(fake.edits) == 2


def test_retry_after_in_seconds_is_honoured(fake, http):
    fake.then(server_error(503, {"retry-after": "1"}))
    started = time.monotonic()
    assert driver(fake, http).process(request_for()).data
    assert time.monotonic() - started >= 1.0
    assert len(fake.edits) == 2


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_transient_status_is_retried_until_the_image_comes(fake, http, status):
    quick = {"retry-after-ms": "10"}
    fake.then(server_error(status, quick), server_error(status, quick))
    assert driver(fake, http).process(request_for()).data
    assert len(fake.edits) == 3


def test_html_502_page_from_a_proxy_is_retried_as_transient(fake, http):
    fake.then(raw_answer(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"))
    assert driver(fake, http).process(request_for()).data
    assert len(fake.edits) == 2


def test_x_should_retry_false_stops_retrying_at_once(fake, http):
    fake.then(server_error(503, {"x-should-retry": "false"}))
    with pytest.raises(ProviderUnavailable, match="asked not to retry"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_x_should_retry_true_retries_even_a_400(fake, http):
    retry = {"x-should-retry": "true", "retry-after-ms": "10"}
    fake.then(error_answer(400, "Try again.", "invalid_request_error", headers=retry))
    assert driver(fake, http).process(request_for()).data
    assert len(fake.edits) == 2


def test_insufficient_quota_is_not_retried_and_says_the_account_is_out_of_credit(fake, http):
    fake.always(insufficient_quota())
    with pytest.raises(ProviderUnavailable, match="out of credit"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_server_wait_longer_than_the_time_left_ends_as_provider_unavailable_at_once(fake, http):
    fake.always(rate_limited({"retry-after": "30"}))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="rate_limit_exceeded"):
        driver(fake, http).process(request_for(seconds=3))
    assert time.monotonic() - started < 1.0
    assert len(fake.edits) == 1


def test_persistent_503_ends_as_provider_unavailable_before_the_deadline(fake, http):
    fake.always(server_error(503))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        driver(fake, http).process(request_for(seconds=2))
    assert time.monotonic() - started < 2.0
    assert len(fake.edits) >= 2


def test_provider_that_never_answers_times_out_at_the_deadline(fake, http):
    fake.always(fake.hang())
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        driver(fake, http).process(request_for(seconds=1.5))
    assert time.monotonic() - started == pytest.approx(1.5, abs=0.3)


def test_unreachable_server_ends_as_provider_unavailable(http):
    provider = OpenAIProvider(API_KEY, closed_port_url(), http)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="Could not reach openai"):
        provider.process(request_for(seconds=2))
    assert time.monotonic() - started < 2.0
