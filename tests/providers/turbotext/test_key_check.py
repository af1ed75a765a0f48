"""The Turbotext driver's configuration, recorded model and API key check."""

from __future__ import annotations

import pytest

from app.deadline import Deadline
from app.providers.base import KeyCheck, ProviderNotConfigured
from app.providers.turbotext import TurbotextProvider
from tests.support.servers import free_port
from tests.support.turbotext_driver import GENERATE, MIX, request_for


def test_without_a_key_it_is_not_configured_and_refuses_to_process(offline_links, http, fake):
    provider = TurbotextProvider(None, fake.url, http, offline_links)
    assert not provider.is_configured()
    with pytest.raises(ProviderNotConfigured):
        provider.process(request_for(GENERATE))
    assert fake.calls == []


def test_the_model_recorded_is_the_method(offline_provider):
    assert offline_provider.model_of(MIX) == "mix_images"


def test_key_check_with_a_good_key_is_ok_and_processes_nothing(offline_provider, fake):
    assert offline_provider.check_key(Deadline.after(3)) == KeyCheck.OK
    assert [(call.method, call.form) for call in fake.calls] == [
        ("available_api", {"do": "create_queue"})
    ]


def test_key_check_with_a_refused_key_is_invalid(fake, offline_links, http):
    provider = TurbotextProvider("wrong", fake.url, http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.INVALID


def test_key_check_with_an_auth_error_body_is_invalid(fake, offline_links, http):
    fake.behaviour.auth_error_in_body = True
    provider = TurbotextProvider("wrong", fake.url, http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.INVALID


def test_key_check_of_a_failing_turbotext_is_unreachable(offline_provider, fake):
    fake.behaviour.create_statuses = [503]
    assert offline_provider.check_key(Deadline.after(3)) == KeyCheck.UNREACHABLE
    assert fake.create_calls == 1


def test_key_check_of_an_unreachable_turbotext_is_unreachable(offline_links, http):
    provider = TurbotextProvider("key", f"http://127.0.0.1:{free_port()}", http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.UNREACHABLE


def test_key_check_without_a_key_is_missing(offline_links, http, fake):
    provider = TurbotextProvider(None, fake.url, http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.MISSING
