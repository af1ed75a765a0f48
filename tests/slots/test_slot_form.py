"""The slot page and its form: saving, errors by field, version conflicts between two admins, CSRF.

The form tests call the app in-process (``admin_client``); what needs a server runs over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings.service import save_settings
from tests.support.admin import AdminSession
from tests.support.pages import field_error as shown_error
from tests.support.pages import form_fields
from tests.support.stored import fresh_slot


def loaded_form(
    admin: AdminSession[Any], slot_id: str = "slot-001", **changes: str
) -> dict[str, str]:
    page = admin.get(f"/admin/slots/{slot_id}")
    assert page.status_code == 200
    return {**form_fields(page.text), **changes}


def field_error(html: str, name: str) -> str:
    found = shown_error(html, "f-" + name.replace(".", "-"))
    assert found, f"no error shown next to {name}"
    return found


def test_slot_page_shows_the_saved_fields_and_links(admin_http, live_server):
    page = admin_http.get("/admin/slots/slot-002?lang=en")

    assert page.status_code == 200
    fields = form_fields(page.text)
    assert fields["provider"] == "local"
    assert fields["version"] == "1"
    assert fields["is_active"] == "on"
    assert fields["settings.style"]
    assert f"{live_server.url}/ingest/slot-002" in page.text
    assert "The Telegram bot is not configured." in page.text
    assert "data-guard-unsaved" in page.text


def test_slot_page_offers_the_telegram_deep_link_when_the_bot_is_known(
    admin_client, db_session, config
):
    save_settings(db_session, config, {"telegram_bot_username": "studio_bot"}, "tests")

    page = admin_client.get("/admin/slots/slot-003")

    assert 'data-copy="https://t.me/studio_bot?start=slot-003"' in page.text


def test_unknown_slot_page_is_a_404_page(admin_client):
    response = admin_client.get("/admin/slots/slot-099?lang=en")

    assert response.status_code == 404
    assert "slot-099" in response.text


def test_saving_the_form_stores_every_field_and_bumps_the_version(admin_client, db_session):
    form = loaded_form(
        admin_client,
        display_name="Neon portrait",
        **{
            "settings.style": "pencil",
            "settings.delay_seconds": "1.5",
            "output.format": "webp",
            "output.quality": "80",
            "output.max_side": "1024",
            "size_limit_mb": "12",
            "telegram.label": "Neon",
            "telegram.enabled": "on",
            "public_gallery": "on",
        },
    )
    del form["is_active"]

    response = admin_client.post("/admin/slots/slot-001?lang=en", htmx=True, data=form)

    assert response.status_code == 200
    assert "Saved. This is version 2." in response.text
    assert form_fields(response.text)["version"] == "2"
    slot = fresh_slot(db_session)
    assert slot.display_name == "Neon portrait"
    assert slot.is_active is False
    assert slot.settings == {"style": "pencil", "delay_seconds": 1.5}
    assert (slot.output_format, slot.output_quality, slot.max_side) == ("webp", 80, 1024)
    assert slot.size_limit_mb == 12
    assert (slot.public_gallery, slot.telegram_enabled, slot.telegram_label) == (True, True, "Neon")
    assert (slot.version, slot.updated_by) == (2, "admin")


def test_switching_the_provider_in_the_form_replaces_the_settings(admin_client, db_session):
    form = loaded_form(admin_client, provider="gemini")
    form.update({"settings.model": "gemini-2.5-flash-image", "settings.prompt": "Neon portrait"})
    form["settings.aspect_ratio"] = "3:4"

    response = admin_client.post("/admin/slots/slot-001", htmx=True, data=form)

    assert response.status_code == 200
    slot = fresh_slot(db_session)
    assert slot.provider == "gemini"
    assert slot.settings == {
        "model": "gemini-2.5-flash-image",
        "prompt": "Neon portrait",
        "aspect_ratio": "3:4",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"output.quality": "101"}, "output.quality"),
        ({"output.quality": "good"}, "output.quality"),
        ({"output.max_side": "10"}, "output.max_side"),
        ({"size_limit_mb": "21"}, "size_limit_mb"),
        ({"ingest_password": "abc"}, "ingest_password"),
        ({"settings.delay_seconds": "61"}, "settings.delay_seconds"),
        (
            {
                "provider": "gemini",
                "settings.model": "gemini-2.5-flash-image",
                "settings.prompt": "",
            },
            "settings.prompt",
        ),
    ],
)
def test_an_invalid_field_is_refused_with_its_message_and_nothing_is_saved(
    admin_client, db_session, changes, field
):
    form = {**loaded_form(admin_client), "display_name": "Typed name", **changes}

    response = admin_client.post("/admin/slots/slot-001?lang=en", htmx=True, data=form)

    assert response.status_code == 422
    assert field_error(response.text, field)
    shown = form_fields(response.text)
    typed = {k: v for k, v in changes.items() if k != "ingest_password"}
    assert {k: shown.get(k, "") for k in typed} == typed
    slot = fresh_slot(db_session)
    assert (slot.version, slot.updated_by, slot.provider) == (1, "migration", "local")


def test_all_invalid_fields_are_reported_at_once(admin_client):
    form = loaded_form(admin_client, display_name="", provider="openai")
    form.update({"settings.prompt": "", "output.quality": "0"})

    response = admin_client.post("/admin/slots/slot-001?lang=en", htmx=True, data=form)

    assert response.status_code == 422
    assert field_error(response.text, "display_name") == "This field is required."
    assert field_error(response.text, "settings.prompt") == "This field is required."
    assert field_error(response.text, "output.quality") == "Must be at least 1."


def test_a_stale_form_gets_409_naming_who_saved_and_overwrites_nothing(
    admin_client, second_admin, db_session
):
    form = loaded_form(admin_client, display_name="My typing")
    theirs = loaded_form(second_admin, **{"settings.style": "neon"})
    assert second_admin.post("/admin/slots/slot-001", htmx=True, data=theirs).status_code == 200

    response = admin_client.post("/admin/slots/slot-001?lang=en", htmx=True, data=form)

    assert response.status_code == 409
    assert "changed by maria" in response.text
    assert 'id="slot-conflict"' in response.text
    assert form_fields(response.text)["display_name"] == "My typing"
    assert form_fields(response.text)["version"] == "1"
    slot = fresh_slot(db_session)
    assert (slot.version, slot.updated_by, slot.settings["style"]) == (2, "maria", "neon")
    assert slot.display_name != "My typing"


def test_a_form_post_without_the_csrf_token_is_refused_and_saves_nothing(admin_client, db_session):
    form = loaded_form(admin_client, display_name="Forged")
    del form["csrf_token"]

    response = admin_client.request("POST", "/admin/slots/slot-001", csrf=False, data=form)

    assert response.status_code == 400
    assert fresh_slot(db_session).display_name != "Forged"


def test_the_active_switch_without_the_csrf_token_is_refused(admin_client, db_session):
    response = admin_client.request("POST", "/admin/slots/slot-001/active", csrf=False, htmx=True)

    assert response.status_code == 400
    assert fresh_slot(db_session).is_active is True


def test_without_a_session_the_slot_page_and_save_redirect_to_login(live_server, http):
    page = http.get(f"{live_server.url}/admin/slots/slot-001", allow_redirects=False)
    save = http.post(
        f"{live_server.url}/admin/slots/slot-001",
        data={"display_name": "x"},
        headers={"HX-Request": "true"},
        allow_redirects=False,
    )

    assert page.status_code == 302
    assert page.headers["Location"].startswith("/admin/login")
    assert save.status_code == 401
    assert save.headers["HX-Redirect"].startswith("/admin/login")


def test_own_ingest_password_is_set_and_cleared_but_never_shown(admin_client, db_session):
    form = loaded_form(admin_client, ingest_password="booth-2024")

    saved = admin_client.post("/admin/slots/slot-001?lang=en", htmx=True, data=form)

    assert saved.status_code == 200
    assert "booth-2024" not in saved.text
    assert "This slot has its own password." in saved.text
    slot = fresh_slot(db_session)
    assert slot.ingest_password_hash and "booth-2024" not in slot.ingest_password_hash

    cleared = admin_client.post(
        "/admin/slots/slot-001?lang=en",
        htmx=True,
        data={**form_fields(saved.text), "ingest_password_clear": "on"},
    )

    assert cleared.status_code == 200
    assert "the global ingest password applies" in cleared.text
    assert fresh_slot(db_session).ingest_password_hash is None


def test_provider_fields_fragment_swaps_in_the_providers_own_fields(admin_client):
    gemini = admin_client.get("/admin/slots/slot-001/provider-fields?provider=gemini", htmx=True)
    local = admin_client.get("/admin/slots/slot-001/provider-fields?provider=local", htmx=True)
    deepfake = admin_client.get(
        "/admin/slots/slot-001/provider-fields?provider=turbotext&settings.method=deepfake_photo",
        htmx=True,
    )

    assert gemini.status_code == 200
    assert '<textarea id="f-settings-prompt" name="settings.prompt"' in gemini.text
    assert 'value="gemini-2.5-flash-image"' in gemini.text
    assert 'name="settings.aspect_ratio"' in gemini.text
    assert "<form" not in gemini.text
    assert 'name="settings.style"' in local.text
    assert 'name="settings.delay_seconds"' in local.text
    assert 'name="settings.face_restore"' in deepfake.text
    assert 'name="settings.prompt"' not in deepfake.text


def test_provider_fields_of_an_unknown_provider_are_not_found(admin_client):
    response = admin_client.get("/admin/slots/slot-001/provider-fields?provider=dalle", htmx=True)

    assert response.status_code == 404
