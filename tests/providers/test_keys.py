from __future__ import annotations

from sqlalchemy import text

from app.providers.keys import key_status, resolve_api_key, store_api_key
from app.settings.service import load_settings

KEY = "AIzaSyD-test-key-0000000000000000001234"


def test_stored_key_is_encrypted_at_rest_and_resolves_back(db_session, config):
    store_api_key(db_session, config, "gemini", KEY, "admin")
    raw = db_session.execute(text("SELECT value::text FROM settings WHERE key='provider_keys'"))
    assert KEY not in raw.scalar_one()
    assert resolve_api_key(config, load_settings(db_session, config), "gemini") == KEY


def test_status_shows_when_and_the_last_four_characters_only(db_session, config):
    store_api_key(db_session, config, "gemini", KEY, "admin")
    status = key_status(config, load_settings(db_session, config))
    assert status["gemini"]["configured"] is True
    assert status["gemini"]["last4"] == "1234"
    assert status["gemini"]["updated_at"]
    assert KEY not in repr(status)
    assert status["openai"] == {"configured": False}


def test_environment_key_wins_over_the_stored_one(db_session, make_config):
    config = make_config(gemini_api_key="from-env-9999")
    store_api_key(db_session, config, "gemini", KEY, "admin")
    runtime = load_settings(db_session, config)
    assert resolve_api_key(config, runtime, "gemini") == "from-env-9999"
    assert key_status(config, runtime)["gemini"]["source"] == "env"


def test_clearing_a_key_leaves_the_provider_unconfigured(db_session, config):
    store_api_key(db_session, config, "openai", KEY, "admin")
    store_api_key(db_session, config, "openai", None, "admin")
    assert resolve_api_key(config, load_settings(db_session, config), "openai") is None


def test_a_key_stored_under_another_secret_key_is_not_usable(db_session, config, make_config):
    store_api_key(db_session, config, "turbotext", KEY, "admin")
    other = make_config(secret_key="another-secret")
    assert resolve_api_key(other, load_settings(db_session, other), "turbotext") is None
