"""The OpenAI driver's configuration, reported model and API key check."""

from __future__ import annotations

from app.deadline import Deadline
from app.providers.base import KeyCheck
from app.providers.openai import OpenAIProvider
from tests.support.fakes.openai import API_KEY
from tests.support.openai_driver import PROMPT, driver
from tests.support.servers import closed_port_url


def test_is_configured_only_with_a_key(http):
    assert OpenAIProvider(API_KEY, "http://127.0.0.1:1", http).is_configured()
    assert not OpenAIProvider(None, "http://127.0.0.1:1", http).is_configured()
    assert not OpenAIProvider("", "http://127.0.0.1:1", http).is_configured()


def test_model_of_names_the_slot_model_or_the_default(http):
    provider = OpenAIProvider(API_KEY, "http://127.0.0.1:1", http)
    assert provider.model_of({"prompt": PROMPT, "model": "gpt-image-1-mini"}) == "gpt-image-1-mini"
    assert provider.model_of({"prompt": PROMPT}) == "gpt-image-1.5"


def test_check_key_accepts_a_key_the_api_knows_with_one_call(fake, http):
    assert driver(fake, http).check_key(Deadline.after(3)) is KeyCheck.OK
    assert fake.models_calls == 1
    assert fake.edits == []


def test_check_key_reports_a_refused_key_as_invalid(fake, http):
    assert driver(fake, http, key="sk-wrong").check_key(Deadline.after(3)) is KeyCheck.INVALID


def test_check_key_reports_a_dead_server_as_unreachable(http):
    provider = OpenAIProvider(API_KEY, closed_port_url(), http)
    assert provider.check_key(Deadline.after(3)) is KeyCheck.UNREACHABLE


def test_check_key_without_a_key_is_missing_and_calls_nothing(fake, http):
    assert driver(fake, http, key=None).check_key(Deadline.after(3)) is KeyCheck.MISSING
    assert fake.models_calls == 0
