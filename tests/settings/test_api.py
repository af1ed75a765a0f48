"""``GET|PUT /api/settings`` and ``POST|DELETE /api/gallery/share``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import text

from app.db import utcnow
from tests.support.ingest import booth_password_matches
from tests.support.stored import reload_settings

KEY = "sk-test-openai-key-00005678"


@pytest.fixture
def api(live_server, api_http):
    """Calls on the live server with the admin's bearer token: ``api("GET", "/api/…")``."""

    def call(method, path, **kwargs):
        return api_http.request(method, live_server.url + path, **kwargs)

    return call


def assert_validation_error(response: requests.Response, *fields: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["status"], body["failure_reason"]) == ("error", "validation_error")
    assert {error["field"] for error in body["errors"]} == set(fields)


def test_get_returns_the_settings_without_any_secret(api):
    response = api("GET", "/api/settings")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "sync_response_seconds": 48,
        "result_ttl_hours": 72,
        "slot_concurrency": 3,
        "provider_concurrency": 10,
        "dedupe_window_minutes": 10,
        "telegram_daily_limit": 10,
        "telegram_admin_ids": [],
        "ingest_password_set": True,
        "ingest_password_updated_at": None,
        "ingest_password_updated_by": None,
        "provider_keys": {
            provider: {
                "configured": False,
                "source": None,
                "updated_at": None,
                "last4": None,
                "unreadable": False,
            }
            for provider in ("gemini", "openai", "turbotext")
        },
        "gallery_shared_until": None,
        "telegram_bot_username": None,
    }


def test_put_saves_any_subset_and_answers_with_the_new_settings(api, db_session, config):
    response = api(
        "PUT",
        "/api/settings",
        json={"sync_response_seconds": 30, "telegram_admin_ids": [123456789, 42]},
    )

    assert response.status_code == 200
    assert response.json()["sync_response_seconds"] == 30
    runtime = reload_settings(db_session, config)
    assert (runtime.sync_response_seconds, runtime.telegram_admin_ids) == (30, [123456789, 42])
    assert runtime.result_ttl_hours == 72


def test_put_with_unknown_fields_is_422_and_changes_nothing(api, db_session, config):
    body = {"sync_response_seconds": 30, "colour": "red", "provider_keys": {"local": KEY}}

    response = api("PUT", "/api/settings", json=body)

    assert_validation_error(response, "colour", "provider_keys.local")
    assert reload_settings(db_session, config).sync_response_seconds == 48


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {
                "sync_response_seconds": 5,
                "result_ttl_hours": 169,
                "slot_concurrency": 0,
                "ingest_password": "",
            },
            {"sync_response_seconds", "result_ttl_hours", "slot_concurrency", "ingest_password"},
        ),
        (
            {"provider_concurrency": "10", "result_ttl_hours": None, "telegram_admin_ids": [1, -5]},
            {"provider_concurrency", "result_ttl_hours", "telegram_admin_ids.1"},
        ),
    ],
    ids=["out_of_range", "wrong_types"],
)
def test_put_with_invalid_values_is_422_with_the_fields_named(
    api, db_session, config, body, fields
):
    response = api("PUT", "/api/settings", json=body)

    assert_validation_error(response, *fields)
    assert reload_settings(db_session, config).sync_response_seconds == 48


def test_the_ingest_password_is_write_only_and_stored_hashed(api, db_session, config):
    response = api("PUT", "/api/settings", json={"ingest_password": "new-booth-pass"})

    assert response.status_code == 200
    body = response.json()
    assert "ingest_password" not in body
    assert "new-booth-pass" not in response.text
    assert body["ingest_password_updated_by"] == "admin"
    runtime = reload_settings(db_session, config)
    assert runtime.ingest_password_hash
    assert booth_password_matches(config, runtime.ingest_password_hash, "new-booth-pass")


def test_a_provider_key_is_written_as_a_string_and_read_back_masked(api, db_session):
    response = api("PUT", "/api/settings", json={"provider_keys": {"openai": KEY}})

    assert response.status_code == 200
    status = response.json()["provider_keys"]["openai"]
    assert (status["configured"], status["source"], status["last4"]) == (True, "settings", "5678")
    assert datetime.fromisoformat(status["updated_at"]) <= utcnow()
    assert KEY not in api("GET", "/api/settings").text
    stored = db_session.execute(text("SELECT value::text FROM settings WHERE key='provider_keys'"))
    assert KEY not in stored.scalar_one()


def test_a_provider_key_written_as_null_is_cleared(api):
    api("PUT", "/api/settings", json={"provider_keys": {"openai": KEY, "gemini": KEY}})

    response = api("PUT", "/api/settings", json={"provider_keys": {"openai": None}})

    keys = response.json()["provider_keys"]
    assert keys["openai"]["configured"] is False
    assert keys["gemini"]["configured"] is True


def test_a_body_that_is_not_json_is_415(api):
    response = api("PUT", "/api/settings", data={"sync_response_seconds": "30"})

    assert response.status_code == 415
    assert response.json()["failure_reason"] == "unsupported_media_type"


def test_sharing_the_gallery_returns_when_it_closes(api, db_session, config):
    before = utcnow()

    response = api("POST", "/api/gallery/share", json={"minutes": 30})

    assert response.status_code == 200
    until = datetime.fromisoformat(response.json()["shared_until"])
    assert before + timedelta(minutes=30) <= until <= utcnow() + timedelta(minutes=30)
    assert reload_settings(db_session, config).gallery_shared_until == until
    assert api("GET", "/api/settings").json()["gallery_shared_until"] is not None


@pytest.mark.parametrize("minutes", [4, 121, "15"])
def test_sharing_minutes_outside_5_to_120_are_422(api, minutes):
    response = api("POST", "/api/gallery/share", json={"minutes": minutes})

    assert_validation_error(response, "minutes")


def test_deleting_the_share_closes_the_gallery(api, db_session, config):
    api("POST", "/api/gallery/share", json={"minutes": 30})

    response = api("DELETE", "/api/gallery/share")

    assert response.status_code == 200
    assert response.json() == {"shared_until": None}
    assert reload_settings(db_session, config).gallery_shared_until is None


def test_the_routes_are_in_the_openapi_document(live_server, http):
    paths = http.get(f"{live_server.url}/api/openapi.json").json()["paths"]

    assert {"get", "put"} <= set(paths["/api/settings"])
    assert {"post", "delete"} <= set(paths["/api/gallery/share"])


def test_a_json_body_that_is_not_an_object_is_422(api, db_session, config):
    response = api(
        "PUT", "/api/settings", data="null", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["failure_reason"] == "validation_error"
