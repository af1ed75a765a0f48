"""A SECRET_KEY rotation: stored provider keys, booth passwords and admin sessions keep working
through SECRET_KEY_FALLBACKS and ``photochanger secrets rotate``; what no key can read is said
loudly (named, never shown), and booths whose providers are fine keep working."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session

from app.auth.passwords import (
    BOOTH_HASH_PREFIX,
    BoothHashKey,
    booth_hash_key,
    check_booth_password,
    hash_booth_password,
)
from app.config import Config
from app.ingest.models import Job
from app.ops.stored_secrets import INGEST_LABEL, inspect_secrets, rotate
from app.providers.keys import StoredKey, resolve_api_key, store_api_key
from app.settings.service import load_settings, set_ingest_password
from app.slots.models import Slot
from tests.support.admin import AdminClient
from tests.support.cli import photochanger, serving
from tests.support.fakes.gemini import API_KEY, GeminiFake
from tests.support.gemini_driver import PROMPT
from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, assert_error, ingest_url, post_photo
from tests.support.pages import marked_text
from tests.support.servers import free_port, serve_app
from tests.support.stored import use_provider

OLD = "old-secret-key-1f9a"
NEW = "new-secret-key-7c2e"
SLOT_PASSWORD = "slot-two-booth-pw"

MakeConfig = Callable[..., Config]


@pytest.fixture
def config(make_config: MakeConfig, gemini: GeminiFake) -> Config:
    """The server after a SECRET_KEY change made without SECRET_KEY_FALLBACKS."""
    return make_config(secret_key=NEW, gemini_api_base=gemini.base_url)


@pytest.fixture
def keyed(make_config: MakeConfig, gemini: GeminiFake) -> Callable[..., Config]:
    def make(secret_key: str, fallbacks: str = "") -> Config:
        return make_config(
            secret_key=secret_key,
            secret_key_fallbacks=fallbacks,
            gemini_api_base=gemini.base_url,
        )

    return make


def stored_under_old_key(session: Session, old: Config) -> None:
    """What an install running with SECRET_KEY=OLD has stored: a Gemini key (slot-001 uses
    Gemini), the global booth password and slot-002's own booth password."""
    store_api_key(session, old, "gemini", API_KEY, "admin")
    set_ingest_password(session, old, INGEST_PASSWORD, "admin")
    use_provider(session, "gemini", {"model": "gemini-2.5-flash-image", "prompt": PROMPT})
    slot = session.get(Slot, "slot-002")
    assert slot is not None
    slot.ingest_password_hash = hash_booth_password(old.booth_password_key, SLOT_PASSWORD)
    session.commit()


def slot_two_hash(session: Session) -> str:
    session.expire_all()
    slot = session.get(Slot, "slot-002")
    assert slot is not None and slot.ingest_password_hash
    return slot.ingest_password_hash


def test_a_rotation_keeps_provider_keys_and_booth_passwords_working_to_the_end(
    db_session, keyed, http, jpeg, gemini
):
    stored_under_old_key(db_session, keyed(OLD))
    rotating = keyed(NEW, fallbacks=OLD)

    with serve_app(rotating) as url:
        assert post_photo(http, ingest_url(url), jpeg).status_code == 200
        assert post_photo(http, ingest_url(url, "slot-002"), jpeg, password=SLOT_PASSWORD).ok
    rotation, after = rotate(db_session, rotating)

    assert rotation.rotated == ["gemini"]
    assert after.provider_keys == {"gemini": StoredKey.CURRENT}
    assert set(after.booth_passwords.values()) == {BoothHashKey.CURRENT}
    assert after.needs_fallback == [] and after.unreadable == []
    another = make_image_bytes(color=(10, 90, 200))  # not a replay of the first photo
    with serve_app(keyed(NEW)) as url:
        assert post_photo(http, ingest_url(url), another).status_code == 200
        assert post_photo(http, ingest_url(url, "slot-002"), another, password=SLOT_PASSWORD).ok
    assert len(gemini.generate_calls) == 2


def test_a_booth_password_under_the_old_key_moves_to_the_new_key_at_its_next_photo(
    db_session, keyed, http, jpeg
):
    stored_under_old_key(db_session, keyed(OLD))
    rotating = keyed(NEW, fallbacks=OLD)
    assert inspect_secrets(db_session, rotating).booth_passwords == {
        "ingest password": BoothHashKey.FALLBACK,
        "ingest password slot-002": BoothHashKey.FALLBACK,
    }

    with serve_app(rotating) as url:
        slot_two = ingest_url(url, "slot-002")
        assert_error(post_photo(http, slot_two, jpeg, password="wrong"), 401, "invalid_password")
        assert slot_two_hash(db_session) == hash_booth_password(
            keyed(OLD).booth_password_key, SLOT_PASSWORD
        )
        assert post_photo(http, slot_two, jpeg, password=SLOT_PASSWORD).status_code == 200

    assert slot_two_hash(db_session) == hash_booth_password(
        rotating.booth_password_key, SLOT_PASSWORD
    )
    assert inspect_secrets(db_session, rotating).needs_fallback == [
        "provider key gemini",
        "ingest password",
    ]


def test_a_booth_password_under_a_dropped_key_is_named_unreadable(db_session, keyed, http, jpeg):
    stored_under_old_key(db_session, keyed(OLD))

    assert inspect_secrets(db_session, keyed(NEW)).unreadable == [
        "provider key gemini",
        "ingest password",
        "ingest password slot-002",
    ]
    with serve_app(keyed(NEW)) as url:
        refused = post_photo(http, ingest_url(url, "slot-002"), jpeg, password=SLOT_PASSWORD)
        assert_error(refused, 401, "invalid_password")


def test_a_keyed_hash_from_before_key_ids_is_accepted_and_gains_the_key_id(keyed):
    config = keyed(NEW)
    digest = hmac.new(config.booth_password_key, b"booth", hashlib.sha256).hexdigest()
    unnamed = BOOTH_HASH_PREFIX + digest

    assert booth_hash_key(config.booth_password_keys, unnamed) is BoothHashKey.UNNAMED
    check = check_booth_password(config.booth_password_key, unnamed, "booth")
    assert check.valid
    assert check.upgraded_hash == hash_booth_password(config.booth_password_key, "booth")
    assert not check_booth_password(config.booth_password_key, unnamed, "booth ").valid


def test_a_fallback_key_is_tried_only_for_hashes_it_wrote(keyed):
    old, rotating = keyed(OLD), keyed(NEW, fallbacks=OLD)
    under_old = hash_booth_password(old.booth_password_key, "booth")

    check = check_booth_password(rotating.booth_password_key, under_old, "booth")
    assert not check.valid
    check = check_booth_password(
        rotating.booth_password_key, under_old, "booth", rotating.booth_password_keys[1:]
    )
    assert check.valid
    assert check.upgraded_hash == hash_booth_password(rotating.booth_password_key, "booth")


def test_an_unreadable_provider_key_fails_its_slots_loudly_and_other_slots_work(
    db_session, make_config, live_server, http, jpeg, gemini
):
    store_api_key(db_session, make_config(secret_key=OLD), "gemini", API_KEY, "admin")
    use_provider(db_session, "gemini", {"model": "gemini-2.5-flash-image", "prompt": PROMPT})

    failed = post_photo(http, ingest_url(live_server.url), jpeg)
    other_slot = post_photo(http, ingest_url(live_server.url, "slot-002"), jpeg)
    health = http.get(f"{live_server.url}/healthz")

    job = db_session.get(Job, assert_error(failed, 503, "provider_key_unreadable")["job_id"])
    assert job is not None and job.failure_reason == "provider_key_unreadable"
    assert other_slot.status_code == 200
    assert health.status_code == 200
    assert health.json()["warnings"] == {"unreadable_secrets": 1}  # public: a count, no names
    assert API_KEY not in health.text and "gemini" not in health.text
    assert gemini.generate_calls == []


def test_the_settings_page_and_api_name_an_unreadable_stored_key(
    db_session, make_config, admin_http, api_http, live_server
):
    store_api_key(db_session, make_config(secret_key=OLD), "gemini", API_KEY, "admin")

    page = admin_http.get("/admin/settings?lang=en")
    api = api_http.get(f"{live_server.url}/api/settings").json()

    card = marked_text(page.text, 'data-provider="gemini"')
    assert card.startswith(
        "Gemini Unreadable The stored key ending with …0042 cannot be decrypted with SECRET_KEY"
    )
    assert api["provider_keys"]["gemini"]["unreadable"] is True
    assert api["provider_keys"]["openai"]["unreadable"] is False
    assert API_KEY not in page.text


def test_an_environment_key_replaces_an_unreadable_stored_one(db_session, make_config, keyed):
    store_api_key(db_session, make_config(secret_key=OLD), "gemini", API_KEY, "admin")
    config = make_config(secret_key=NEW, gemini_api_key="AIzaSy-from-env-7777")

    assert resolve_api_key(config, load_settings(db_session, config), "gemini") == (
        "AIzaSy-from-env-7777"
    )
    assert inspect_secrets(db_session, config).unreadable == []
    assert inspect_secrets(db_session, keyed(NEW)).unreadable == ["provider key gemini"]


def test_an_admin_session_and_its_csrf_token_survive_the_rotation(db_session, keyed, admin_account):
    admin = AdminClient("")
    with serve_app(keyed(OLD)) as url:
        admin.base_url = url
        admin.login()
    with serve_app(keyed(NEW, fallbacks=OLD)) as url:
        admin.base_url = url
        saved = admin.post("/admin/settings/keys/gemini", htmx=True, data={"api_key": API_KEY})
        assert saved.status_code == 200, saved.text
    with serve_app(keyed(NEW)) as url:
        admin.base_url = url
        assert admin.get("/admin/settings", allow_redirects=False).status_code == 200
    with serve_app(keyed("yet-another-key")) as url:
        admin.base_url = url
        assert admin.get("/admin/settings", allow_redirects=False).status_code == 302
    admin.session.close()
    assert inspect_secrets(db_session, keyed(NEW)).provider_keys == {"gemini": StoredKey.CURRENT}


def cli_env(database_url: str, media_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SECRET_KEY_FALLBACKS")}
    return {**env, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root), **extra}


def test_the_secrets_commands_report_refuse_and_rotate(db_session, keyed, database_url, media_root):
    store_api_key(db_session, keyed(OLD), "gemini", API_KEY, "admin")
    set_ingest_password(db_session, keyed(NEW), INGEST_PASSWORD, "admin")

    lost = photochanger("secrets", "status", env=cli_env(database_url, media_root, SECRET_KEY=NEW))
    rotating_env = cli_env(database_url, media_root, SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=OLD)
    rotated = photochanger("secrets", "rotate", env=rotating_env)
    after = photochanger("secrets", "status", env=cli_env(database_url, media_root, SECRET_KEY=NEW))

    assert lost.returncode == 1
    assert "Unreadable under SECRET_KEY and SECRET_KEY_FALLBACKS: provider key gemini" in (
        lost.stderr
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "Provider keys re-encrypted under SECRET_KEY: 1 (gemini)" in rotated.stdout
    assert "SECRET_KEY_FALLBACKS any more: it can be removed" in rotated.stdout
    assert after.returncode == 0, after.stderr
    assert f"{'provider key gemini:':<32}current" in after.stdout.splitlines()
    for done in (lost, rotated, after):
        assert API_KEY not in done.stdout + done.stderr
        assert OLD not in done.stdout + done.stderr


def test_the_secrets_commands_read_the_key_serve_generated_into_the_local_state_folder(
    db_session, keyed, database_url, media_root
):
    store_api_key(db_session, keyed(OLD), "gemini", API_KEY, "admin")
    set_ingest_password(db_session, keyed(OLD), INGEST_PASSWORD, "admin")
    state = media_root.resolve().parent / ".photochanger"
    state.mkdir()
    (state / "secret_key").write_text(OLD + "\n", encoding="utf-8")
    env = cli_env(database_url, media_root)
    for unset in ("SECRET_KEY", "SECRET_KEY_FILE"):
        env.pop(unset, None)

    status = photochanger("secrets", "status", env=env)

    assert status.returncode == 0, status.stderr
    assert f"{'provider key gemini:':<32}current" in status.stdout.splitlines()
    assert f"{INGEST_LABEL + ':':<32}current" in status.stdout.splitlines()


@pytest.mark.slow
def test_serve_logs_an_error_naming_the_unreadable_secrets_at_start(
    db_session, make_config, database_url, media_root, tmp_path
):
    store_api_key(db_session, make_config(secret_key=OLD), "gemini", API_KEY, "admin")
    env = cli_env(
        database_url,
        media_root,
        SECRET_KEY=NEW,
        PORT=str(free_port()),
        WEB_CONCURRENCY="1",
        THREADS="4",
    )
    log = tmp_path / "serve.log"
    with serving(env, log, 60) as url:
        health = requests.get(f"{url}/healthz", timeout=5).json()

    printed = log.read_text()
    (line,) = [line for line in printed.splitlines() if "secrets.unreadable" in line]
    assert "error" in line.lower() and "provider key gemini" in line
    assert API_KEY not in printed and NEW not in printed
    assert health["warnings"] == {"unreadable_secrets": 1}
