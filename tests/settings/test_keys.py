"""Provider keys on the settings page: set and clear (stored encrypted, shown masked), and
"Check key" making one call to the provider — here the fake Gemini on 127.0.0.1."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import text

from app.providers.keys import resolve_api_key
from app.settings.service import load_settings
from tests.support.fakes.gemini import API_KEY, LIST_PATH
from tests.support.pages import field_error, marked_text
from tests.support.servers import closed_port_url


@pytest.fixture
def config(make_config, gemini, request):
    """Pointed at the fake Gemini; tests change it with indirect parametrization."""
    return make_config(**{"gemini_api_base": gemini.base_url, **getattr(request, "param", {})})


def key_card(response: requests.Response, provider: str = "gemini") -> str:
    return marked_text(response.text, f'data-provider="{provider}"')


def test_a_saved_key_is_stored_encrypted_and_shown_masked(admin, db_session, config):
    response = admin.post("/admin/settings/keys/gemini", htmx=True, data={"api_key": API_KEY})

    assert response.status_code == 200
    assert API_KEY not in response.text
    assert "ends with …0042" in key_card(response)
    stored = db_session.execute(text("SELECT value::text FROM settings WHERE key='provider_keys'"))
    assert API_KEY not in stored.scalar_one()
    assert resolve_api_key(config, load_settings(db_session, config), "gemini") == API_KEY
    assert API_KEY not in admin.get("/admin/settings").text


@pytest.mark.parametrize("api_key", ["", "has a space inside it"])
def test_an_implausible_key_is_refused_next_to_the_field(admin, db_session, config, api_key):
    response = admin.post("/admin/settings/keys/openai", htmx=True, data={"api_key": api_key})

    assert response.status_code == 422
    assert field_error(response.text, "api_key") == (
        "Paste the whole key: 8 to 512 characters, no spaces."
    )
    assert load_settings(db_session, config).provider_keys == {}


def test_clearing_a_key_leaves_the_provider_unconfigured(admin, db_session, config):
    admin.post("/admin/settings/keys/turbotext", htmx=True, data={"api_key": "tt-key-12345678"})

    response = admin.post("/admin/settings/keys/turbotext/clear", htmx=True)

    assert response.status_code == 200
    assert "Not configured" in key_card(response, "turbotext")
    db_session.expire_all()
    assert load_settings(db_session, config).provider_keys == {}


@pytest.mark.parametrize("config", [{"gemini_api_key": "AIzaSy-from-env-7777"}], indirect=True)
def test_a_key_from_the_environment_is_shown_as_such_and_cannot_be_cleared(admin):
    page = admin.get("/admin/settings")

    assert key_card(page).startswith(
        "Gemini From the environment (GEMINI_API_KEY), ends with …7777"
    )
    assert "/admin/settings/keys/gemini/clear" not in page.text
    assert "AIzaSy-from-env-7777" not in page.text


def test_a_provider_without_keys_is_404(admin):
    response = admin.post("/admin/settings/keys/local", htmx=True, data={"api_key": "x" * 10})

    assert response.status_code == 404


def test_check_key_reports_a_key_the_provider_accepts(admin, gemini):
    admin.post("/admin/settings/keys/gemini", htmx=True, data={"api_key": API_KEY})

    response = admin.post("/admin/settings/keys/gemini/check", htmx=True)

    assert response.status_code == 200
    assert "The provider accepted the key." in key_card(response)
    assert [(call.method, call.path) for call in gemini.calls] == [("GET", LIST_PATH)]
    assert gemini.calls[0].headers["x-goog-api-key"] == API_KEY


def test_check_key_reports_a_key_the_provider_refuses(admin, gemini):
    admin.post("/admin/settings/keys/gemini", htmx=True, data={"api_key": "AIzaSy-wrong-key-9999"})

    response = admin.post("/admin/settings/keys/gemini/check", htmx=True)

    assert response.status_code == 200
    assert "The provider refused the key" in key_card(response)
    assert "AIzaSy-wrong-key-9999" not in response.text


@pytest.mark.parametrize("config", [{"gemini_api_base": closed_port_url()}], indirect=True)
def test_check_key_reports_an_unreachable_provider(admin):
    admin.post("/admin/settings/keys/gemini", htmx=True, data={"api_key": API_KEY})

    response = admin.post("/admin/settings/keys/gemini/check", htmx=True)

    assert response.status_code == 200
    assert "Could not reach the provider" in key_card(response)
