"""Turbotext's queue: ``create_queue`` sent once, ``get_result`` polled, failures retried or not."""

from __future__ import annotations

import time

import pytest

from app.providers.base import ProviderRejected, ProviderTimeout, ProviderUnavailable
from app.providers.turbotext import TurbotextProvider
from tests.support.servers import free_port
from tests.support.turbotext_driver import GENERATE, request_for


def test_reconnect_answers_are_polled_until_the_result_arrives(provider, fake):
    fake.behaviour.reconnects = 3
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert fake.polls == 4


def test_create_queue_is_sent_once_however_slow_the_polling(provider, fake):
    fake.behaviour.reconnects = 4
    fake.behaviour.poll_delay = 0.3
    provider.process(request_for(GENERATE, seconds=4))
    assert fake.create_calls == 1
    assert fake.polls == 5


def test_a_queueid_sent_as_a_string_is_polled_as_is(provider, fake):
    fake.behaviour.queueid_as_string = True
    provider.process(request_for(GENERATE))
    assert {call.form["queueid"] for call in fake.calls_of("get_result")} == set(fake.queues)


def test_results_that_never_come_time_out_before_the_deadline(fake, links, http):
    fake.behaviour.never_finish = True
    provider = TurbotextProvider(fake.api_key, fake.url, http, links)
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        provider.process(request_for(GENERATE, seconds=1.5))
    assert 1.0 <= time.monotonic() - started <= 1.5
    assert fake.polls == 1, "the 2 s poll interval shrinks to fit the time left"
    assert fake.create_calls == 1


def test_a_get_result_hanging_past_the_deadline_is_a_timeout_at_the_deadline(provider, fake):
    fake.behaviour.poll_delay = 5
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        provider.process(request_for(GENERATE, seconds=1.5))
    assert 1.3 <= time.monotonic() - started <= 1.8


def test_polling_errors_are_retried_without_queueing_again(provider, fake):
    fake.behaviour.poll_statuses = [502, 503]
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert fake.create_calls == 1


def test_a_5xx_on_create_queue_is_retried_as_no_queue_exists_yet(provider, fake):
    fake.behaviour.create_statuses = [503]
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert fake.create_calls == 2
    assert len(fake.queues) == 1


def test_a_busy_error_body_on_create_queue_is_retried(provider, fake):
    fake.behaviour.create_errors = ["Server busy, try again later"]
    provider.process(request_for(GENERATE))
    assert fake.create_calls == 2


def test_create_queue_failing_until_the_deadline_is_provider_unavailable(provider, fake):
    fake.behaviour.create_statuses = [503] * 50
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="503"):
        provider.process(request_for(GENERATE, seconds=2))
    assert time.monotonic() - started < 2


def test_an_unreachable_turbotext_is_provider_unavailable(offline_links, http):
    provider = TurbotextProvider("key", f"http://127.0.0.1:{free_port()}", http, offline_links)
    with pytest.raises(ProviderUnavailable, match="reach"):
        provider.process(request_for(GENERATE, seconds=2))


@pytest.mark.parametrize("code", ["params_error", "LIMIT"])
def test_an_error_answer_to_create_queue_is_a_provider_error_with_its_code(provider, fake, code):
    fake.behaviour.create_errors = [code]
    with pytest.raises(ProviderRejected, match=code):
        provider.process(request_for(GENERATE))
    assert fake.create_calls == 1
