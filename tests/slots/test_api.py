"""The slots JSON API over real HTTP with a bearer token."""

from __future__ import annotations

import requests

from app.slots.models import TemplateMedia, slot_ids
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error
from tests.support.slots import set_provider_settings
from tests.support.stored import files_under, fresh_slot

SLOT_KEYS = {
    "slot_id",
    "display_name",
    "is_active",
    "provider",
    "settings",
    "output",
    "size_limit_mb",
    "ingest_password_set",
    "public_gallery",
    "telegram",
    "template_media",
    "version",
    "updated_at",
    "updated_by",
}


def error_fields(response: requests.Response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_get_slots_lists_all_15_in_the_documented_shape(api_http, live_server):
    response = api_http.get(f"{live_server.url}/api/slots")

    assert response.status_code == 200
    slots = response.json()["slots"]
    assert [s["slot_id"] for s in slots] == slot_ids()
    assert set(slots[0]) == SLOT_KEYS
    assert slots[0]["output"] == {"format": "same", "quality": 92, "max_side": 2048}
    assert set(slots[0]["telegram"]) == {"enabled", "label"}


def test_get_one_slot(api_http, live_server):
    response = api_http.get(f"{live_server.url}/api/slots/slot-004")

    assert response.status_code == 200
    body = response.json()
    assert (body["slot_id"], body["provider"], body["version"]) == ("slot-004", "local", 1)
    assert "ingest_password" not in body


def test_unknown_slot_is_404_slot_not_found(api_http, live_server):
    assert_error(api_http.get(f"{live_server.url}/api/slots/slot-404"), 404, "slot_not_found")
    put = api_http.put(f"{live_server.url}/api/slots/slot-404", json={"is_active": False})
    assert_error(put, 404, "slot_not_found")


def test_put_changes_only_the_fields_sent(api_http, live_server, db_session):
    response = api_http.put(
        f"{live_server.url}/api/slots/slot-002",
        json={
            "display_name": "Neon",
            "output": {"quality": 70},
            "telegram": {"enabled": True},
            "ingest_password": "booth-pass",
            "version": 1,
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Neon"
    assert body["output"] == {"format": "same", "quality": 70, "max_side": 2048}
    assert body["telegram"]["enabled"] is True
    assert body["ingest_password_set"] is True
    assert (body["version"], body["updated_by"]) == (2, "admin")
    slot = fresh_slot(db_session, "slot-002")
    assert slot.telegram_label is not None
    assert slot.ingest_password_hash and "booth-pass" not in slot.ingest_password_hash


def test_put_null_password_clears_it(api_http, live_server, db_session):
    url = f"{live_server.url}/api/slots/slot-002"
    api_http.put(url, json={"ingest_password": "booth-pass"})

    response = api_http.put(url, json={"ingest_password": None})

    assert response.json()["ingest_password_set"] is False
    assert fresh_slot(db_session, "slot-002").ingest_password_hash is None


def test_put_switches_provider_with_complete_settings(api_http, live_server, db_session):
    response = api_http.put(
        f"{live_server.url}/api/slots/slot-003",
        json={"provider": "openai", "settings": {"prompt": "Oil painting", "quality": "high"}},
    )

    assert response.status_code == 200, response.text
    assert response.json()["settings"] == {
        "model": "gpt-image-1.5",
        "prompt": "Oil painting",
        "size": "auto",
        "quality": "high",
    }
    assert fresh_slot(db_session, "slot-003").provider == "openai"


def test_put_switching_provider_without_settings_is_422(api_http, live_server, db_session):
    response = api_http.put(f"{live_server.url}/api/slots/slot-003", json={"provider": "gemini"})

    assert_error(response, 422, "validation_error")
    assert error_fields(response) == ["settings"]
    assert fresh_slot(db_session, "slot-003").provider == "local"


def test_put_switching_provider_with_incomplete_settings_is_422(api_http, live_server):
    response = api_http.put(
        f"{live_server.url}/api/slots/slot-003",
        json={"provider": "gemini", "settings": {"model": "gemini-2.5-flash-image"}},
    )

    assert_error(response, 422, "validation_error")
    assert error_fields(response) == ["settings.prompt"]


def test_put_settings_are_checked_against_the_providers_schema(api_http, live_server):
    response = api_http.put(
        f"{live_server.url}/api/slots/slot-003",
        json={"settings": {"style": "sepia", "delay_seconds": 99, "colour": "red"}},
    )

    assert_error(response, 422, "validation_error")
    assert set(error_fields(response)) == {"settings.delay_seconds", "settings.colour"}


def test_put_unknown_field_is_422(api_http, live_server, db_session):
    response = api_http.put(
        f"{live_server.url}/api/slots/slot-003", json={"display_name": "X", "colour": "red"}
    )

    assert_error(response, 422, "validation_error")
    assert "colour" in error_fields(response)
    assert fresh_slot(db_session, "slot-003").display_name != "X"


def test_put_size_limit_above_the_server_cap_is_422(api_http, live_server, config):
    response = api_http.put(
        f"{live_server.url}/api/slots/slot-003", json={"size_limit_mb": config.max_upload_mb + 1}
    )

    assert_error(response, 422, "validation_error")
    assert error_fields(response) == ["size_limit_mb"]


def test_put_text_with_a_nul_character_is_422_not_500(api_http, live_server):
    url = f"{live_server.url}/api/slots/slot-003"

    assert_error(api_http.put(url, json={"display_name": "a\u0000b"}), 422, "validation_error")
    nul_prompt = {"provider": "openai", "settings": {"prompt": "a\u0000b"}}
    assert_error(api_http.put(url, json=nul_prompt), 422, "validation_error")


def test_put_with_a_stale_version_is_409_with_who_and_when(api_http, live_server, db_session):
    set_provider_settings(db_session, "slot-005", "local", {"style": "neon"}, "maria")

    response = api_http.put(
        f"{live_server.url}/api/slots/slot-005", json={"display_name": "Mine", "version": 1}
    )

    assert_error(response, 409, "version_conflict")
    body = response.json()
    assert (body["updated_by"], body["current_version"]) == ("maria", 2)
    assert body["updated_at"]
    slot = fresh_slot(db_session, "slot-005")
    assert (slot.display_name, slot.version) == ("Cartoon", 2)


def test_template_media_is_added_and_deleted(api_http, live_server, db_session, media_root):
    base = f"{live_server.url}/api/slots/slot-006/template-media"
    jpeg = make_image_bytes(320, 240)

    added = api_http.post(
        base, files={"file": ("face.jpg", jpeg, "image/jpeg")}, data={"kind": "face"}
    )

    assert added.status_code == 201, added.text
    item = added.json()
    assert (item["kind"], item["mime"], item["width"], item["height"]) == (
        "face",
        "image/jpeg",
        320,
        240,
    )
    assert item["preview_url"].endswith(f"/admin/slots/slot-006/templates/{item['media_id']}")
    slot = api_http.get(f"{live_server.url}/api/slots/slot-006").json()
    assert [m["media_id"] for m in slot["template_media"]] == [item["media_id"]]
    assert slot["version"] == 2

    deleted = api_http.delete(f"{base}/{item['media_id']}")

    assert deleted.status_code == 204
    assert db_session.get(TemplateMedia, item["media_id"]) is None
    assert files_under(media_root / "templates") == []
    assert_error(api_http.delete(f"{base}/{item['media_id']}"), 404, "template_not_found")


def test_template_media_refuses_what_is_not_an_image(api_http, live_server):
    response = api_http.post(
        f"{live_server.url}/api/slots/slot-006/template-media",
        files={"file": ("notes.txt", b"hello there, not an image", "image/png")},
    )

    assert_error(response, 415, "unsupported_media_type")


def test_template_media_without_a_file_part_is_422(api_http, live_server):
    url = f"{live_server.url}/api/slots/slot-006/template-media"

    assert_error(api_http.post(url, data={"kind": "face"}), 422, "validation_error")
    assert_error(api_http.post(url, data={"file": "text"}), 422, "validation_error")
    assert_error(api_http.post(url, json={"kind": "face"}), 422, "validation_error")


def test_template_media_of_an_unknown_slot_is_404(api_http, live_server):
    response = api_http.post(
        f"{live_server.url}/api/slots/slot-404/template-media",
        files={"file": ("a.jpg", make_image_bytes(), "image/jpeg")},
    )

    assert_error(response, 404, "slot_not_found")


def test_slot_routes_need_a_bearer_token(live_server, http):
    assert_error(http.get(f"{live_server.url}/api/slots"), 401, "token_missing")


def test_openapi_documents_the_slot_routes(live_server, http):
    paths = http.get(f"{live_server.url}/api/openapi.json").json()["paths"]

    assert {"get", "put"} <= set(paths["/api/slots/{slot_id}"])
    assert "get" in paths["/api/slots"]
    assert "post" in paths["/api/slots/{slot_id}/template-media"]
    assert "delete" in paths["/api/slots/{slot_id}/template-media/{media_id}"]
    put = paths["/api/slots/{slot_id}"]["put"]
    assert {"200", "404", "409", "422"} <= set(put["responses"])
