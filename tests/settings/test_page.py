"""The settings page: each card's form validates next to its fields, saves, and needs CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.ingest.models import Job
from app.media.storage import MediaStore
from app.ops.cleanup import LOCK_KEY
from tests.support.cleanup import HOUR, add_result
from tests.support.database import connected
from tests.support.ingest import INGEST_PASSWORD, booth_password_matches
from tests.support.pages import field_error, input_value, marked_text
from tests.support.stored import PROCESSING_FORM, reload_settings


def test_the_page_has_a_card_for_every_topic(admin):
    page = admin.get("/admin/settings").text

    for card in ("password", "processing", "keys", "telegram", "gallery", "cleanup"):
        assert f'id="settings-{card}"' in page
    assert input_value(page, "sync_response_seconds") == "48"
    assert 'type="range"' in page
    assert page.count("data-guard-unsaved") >= 4


def test_a_typed_ingest_password_is_stored_hashed_and_never_shown(admin, db_session, config):
    response = admin.post("/admin/settings/password", htmx=True, data={"password": "booth-2026"})

    assert response.status_code == 200
    assert "booth-2026" not in response.text
    assert "The ingest password was changed." in response.text
    runtime = reload_settings(db_session, config)
    assert runtime.ingest_password_hash
    assert booth_password_matches(config, runtime.ingest_password_hash, "booth-2026")
    assert runtime.ingest_password_updated_by == "admin"
    assert "by admin" in marked_text(response.text, "data-password-state")


def test_an_empty_ingest_password_is_refused_next_to_the_field(admin, db_session, config):
    response = admin.post("/admin/settings/password", htmx=True, data={"password": ""})

    assert response.status_code == 422
    assert field_error(response.text, "ingest_password") == (
        "Enter a password of 4 to 128 characters."
    )
    runtime = reload_settings(db_session, config)
    assert runtime.ingest_password_hash
    assert booth_password_matches(config, runtime.ingest_password_hash, INGEST_PASSWORD)


def test_a_generated_ingest_password_is_shown_once_and_matches_the_stored_hash(
    admin, db_session, config
):
    response = admin.post("/admin/settings/password/generate", htmx=True)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = marked_text(response.text, "data-generated-password")
    assert len(password) == 20
    runtime = reload_settings(db_session, config)
    assert runtime.ingest_password_hash
    assert booth_password_matches(config, runtime.ingest_password_hash, password)
    assert password not in admin.get("/admin/settings").text


def test_saving_the_processing_card_stores_its_values(admin, db_session, config):
    response = admin.post("/admin/settings/processing", htmx=True, data=PROCESSING_FORM)

    assert response.status_code == 200
    assert 'role="status"' in response.text
    assert input_value(response.text, "sync_response_seconds") == "30"
    runtime = reload_settings(db_session, config)
    assert (
        runtime.sync_response_seconds,
        runtime.result_ttl_hours,
        runtime.dedupe_window_minutes,
        runtime.slot_concurrency,
        runtime.provider_concurrency,
    ) == (30, 24, 5, 4, 20)


@pytest.mark.parametrize(
    "typed",
    [
        {
            "sync_response_seconds": "5",
            "result_ttl_hours": "0",
            "dedupe_window_minutes": "-1",
            "slot_concurrency": "0",
            "provider_concurrency": "0",
        },
        {
            "sync_response_seconds": "61",
            "result_ttl_hours": "169",
            "dedupe_window_minutes": "1441",
            "slot_concurrency": "two",
            "provider_concurrency": "",
        },
    ],
    ids=["below", "above_or_not_a_number"],
)
def test_out_of_range_processing_values_are_refused_next_to_each_field_and_kept(
    admin, db_session, config, typed
):
    response = admin.post("/admin/settings/processing", htmx=True, data=typed)

    assert response.status_code == 422
    assert {name: field_error(response.text, name) for name in typed} == {
        "sync_response_seconds": "Enter a whole number from 10 to 60.",
        "result_ttl_hours": "Enter a whole number from 1 to 168.",
        "dedupe_window_minutes": "Enter a whole number from 0 to 1440.",
        "slot_concurrency": "Enter a whole number from 1 to 256.",
        "provider_concurrency": "Enter a whole number from 1 to 1024.",
    }
    assert {name: input_value(response.text, name) for name in typed} == typed
    runtime = reload_settings(db_session, config)
    assert (runtime.sync_response_seconds, runtime.result_ttl_hours) == (48, 72)


def test_a_form_post_without_javascript_gets_the_whole_page_with_the_errors(admin):
    response = admin.post(
        "/admin/settings/processing", data={**PROCESSING_FORM, "result_ttl_hours": "0"}
    )

    assert response.status_code == 422
    assert "<html" in response.text
    assert 'id="settings-gallery"' in response.text
    assert field_error(response.text, "result_ttl_hours")


def test_telegram_limits_and_admin_ids_are_saved(admin, db_session, config):
    data = {"telegram_daily_limit": "0", "telegram_admin_ids": "123456789, 987654321 42"}

    response = admin.post("/admin/settings/telegram/limits", htmx=True, data=data)

    assert response.status_code == 200
    assert input_value(response.text, "telegram_admin_ids") == "123456789, 987654321, 42"
    runtime = reload_settings(db_session, config)
    assert runtime.telegram_daily_limit == 0
    assert runtime.telegram_admin_ids == [123456789, 987654321, 42]


@pytest.mark.parametrize("ids", ["123, abc", "-5"])
def test_bad_telegram_admin_ids_are_refused_next_to_the_field_and_kept(
    admin, db_session, config, ids
):
    data = {"telegram_daily_limit": "10", "telegram_admin_ids": ids}

    response = admin.post("/admin/settings/telegram/limits", htmx=True, data=data)

    assert response.status_code == 422
    assert field_error(response.text, "telegram_admin_ids") == (
        "Enter Telegram user ids: whole numbers separated by commas."
    )
    assert input_value(response.text, "telegram_admin_ids") == ids
    assert reload_settings(db_session, config).telegram_admin_ids == []


def test_a_negative_telegram_daily_limit_is_refused(admin):
    data = {"telegram_daily_limit": "-1", "telegram_admin_ids": ""}

    response = admin.post("/admin/settings/telegram/limits", htmx=True, data=data)

    assert response.status_code == 422
    assert field_error(response.text, "telegram_daily_limit") == (
        "Enter a whole number from 0 to 10000."
    )


def test_sharing_the_gallery_opens_it_for_the_chosen_minutes(admin, db_session, config):
    before = utcnow()

    response = admin.post("/admin/settings/gallery", htmx=True, data={"minutes": "30"})

    assert response.status_code == 200
    until = reload_settings(db_session, config).gallery_shared_until
    assert until is not None
    assert before + timedelta(minutes=30) <= until <= utcnow() + timedelta(minutes=30)
    assert f'data-shared-until="{until.isoformat()}"' in response.text
    assert "/admin/settings/gallery/stop" in response.text


def test_stop_sharing_closes_the_gallery_at_once(admin, db_session, config):
    admin.post("/admin/settings/gallery", htmx=True, data={"minutes": "15"})

    response = admin.post("/admin/settings/gallery/stop", htmx=True)

    assert response.status_code == 200
    assert reload_settings(db_session, config).gallery_shared_until is None
    assert 'data-shared-until=""' in response.text


@pytest.mark.parametrize("minutes", ["200", "4"])
def test_gallery_minutes_outside_5_to_120_are_refused(admin, db_session, config, minutes):
    response = admin.post("/admin/settings/gallery", htmx=True, data={"minutes": minutes})

    assert response.status_code == 422
    assert field_error(response.text, "minutes") == "Enter a whole number from 5 to 120."
    assert input_value(response.text, "minutes") == minutes
    assert reload_settings(db_session, config).gallery_shared_until is None


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/settings/processing", {**PROCESSING_FORM}),
        ("/admin/settings/password/generate", {}),
        ("/admin/settings/keys/gemini", {"api_key": "AIzaSyD-some-new-key-1234"}),
    ],
)
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    admin, db_session, config, path, data
):
    response = admin.request("POST", path, csrf=False, htmx=True, data=data)

    assert response.status_code == 400
    runtime = reload_settings(db_session, config)
    assert runtime.sync_response_seconds == 48
    assert runtime.ingest_password_hash
    assert booth_password_matches(config, runtime.ingest_password_hash, INGEST_PASSWORD)
    assert runtime.gallery_shared_until is None
    assert runtime.provider_keys == {}


def test_clean_up_now_removes_expired_results_and_shows_the_summary(admin, db_session, media_root):
    store = MediaStore(media_root)
    job, folder = add_result(db_session, store, utcnow(), expires_in=-HOUR)

    response = admin.post("/admin/settings/cleanup", htmx=True)

    assert response.status_code == 200
    summary = marked_text(response.text, "data-cleanup-summary")
    assert "Results removed: 1." in summary
    assert "Space freed: " in summary
    assert not folder.exists()
    db_session.expire_all()
    assert db_session.get(Job, job.id).cleaned_at is not None


def test_clean_up_now_says_so_when_another_cleanup_is_running(admin, database_url):
    with connected(database_url) as connection:
        connection.execute(
            sa.text("SELECT pg_advisory_lock(hashtextextended(:key, 0))"), {"key": LOCK_KEY}
        )
        response = admin.post("/admin/settings/cleanup", htmx=True)

    assert response.status_code == 200
    assert marked_text(response.text, "data-cleanup-summary") == (
        "Skipped: another cleanup is running."
    )
