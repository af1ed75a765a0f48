"""The Gemini driver checking an API key by listing one model."""

from __future__ import annotations

from app.deadline import Deadline
from app.providers.base import KeyCheck
from app.providers.gemini import GeminiProvider
from tests.support.fakes.gemini import API_KEY, error_reply, overloaded_reply, rate_limited_reply
from tests.support.servers import closed_port_url


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
