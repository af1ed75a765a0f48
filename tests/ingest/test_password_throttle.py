"""The booth password: wrong guesses throttled per client and slot in PostgreSQL, a bounded number
of checks at once, a cheap keyed hash, and legacy scrypt hashes upgraded on first use."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app import create_app
from app.auth.passwords import (
    BOOTH_CHECKS_AT_ONCE,
    BOOTH_HASH_PREFIX,
    check_booth_password,
    generate_password,
    hash_booth_password,
)
from app.ingest.models import Job
from app.ingest.password import FAILURE_LIMIT as PASSWORD_FAILURE_LIMIT
from app.ingest.password import WINDOW_SECONDS as PASSWORD_WINDOW_SECONDS
from app.settings.service import save_settings
from app.slots.models import Slot
from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, assert_error, ingest_url, post_photo
from tests.support.servers import LiveServer
from tests.support.stored import reload_settings

WRONG = "not-the-password"


@pytest.fixture
def config(make_config):
    """Room for every upload the tests send at once: only the password throttle may refuse."""
    return make_config(ingest_jobs_per_worker=32)


def guess(http: requests.Session, url: str, jpeg: bytes, password: str = WRONG) -> int:
    return post_photo(http, url, jpeg, password=password).status_code


def test_after_ten_wrong_passwords_even_the_right_one_is_429_with_retry_after(
    live_server, http, jpeg, db_session
):
    url = ingest_url(live_server.url)
    assert [guess(http, url, jpeg) for _ in range(PASSWORD_FAILURE_LIMIT)] == [401] * 10

    refused = post_photo(http, url, jpeg)

    assert_error(refused, 429, "too_many_attempts")
    assert 1 <= int(refused.headers["Retry-After"]) <= PASSWORD_WINDOW_SECONDS
    assert "неверных паролей" in refused.json()["message"]
    assert db_session.scalars(select(Job)).all() == []


def test_parallel_wrong_passwords_all_count_toward_the_limit(live_server, http, jpeg):
    url = ingest_url(live_server.url)

    def one_guess(_: int) -> int:
        with requests.Session() as own:
            return guess(own, url, jpeg)

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(one_guess, range(16)))

    assert set(statuses) <= {401, 429}
    assert statuses.count(401) >= PASSWORD_FAILURE_LIMIT
    assert guess(http, url, jpeg, INGEST_PASSWORD) == 429


def test_many_photos_at_once_with_the_right_password_are_never_throttled(live_server, jpeg):
    """Only failures count: a busy booth sending more photos at once than the failure limit."""
    url = ingest_url(live_server.url)

    def one_photo(n: int) -> str:
        with requests.Session() as own:
            response = post_photo(own, url, make_image_bytes(64 + n, 48))
        return "ok" if response.ok else response.json()["failure_reason"]

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(one_photo, range(2 * PASSWORD_FAILURE_LIMIT)))

    assert "ok" in outcomes
    assert set(outcomes) <= {"ok", "slot_busy"}


def test_a_right_password_is_not_counted(live_server, http, jpeg):
    url = ingest_url(live_server.url)
    for _ in range(PASSWORD_FAILURE_LIMIT - 1):
        guess(http, url, jpeg)

    assert guess(http, url, jpeg, INGEST_PASSWORD) == 200
    assert guess(http, url, jpeg) == 401
    assert guess(http, url, jpeg) == 429


def test_wrong_passwords_for_one_slot_leave_the_other_slots_open(live_server, http, jpeg):
    for _ in range(PASSWORD_FAILURE_LIMIT + 1):
        guess(http, ingest_url(live_server.url, "slot-001"), jpeg)

    assert guess(http, ingest_url(live_server.url, "slot-002"), jpeg, INGEST_PASSWORD) == 200


def test_failures_are_counted_across_app_instances(live_server, http, jpeg, config):
    other_app = create_app(config)
    other = LiveServer(other_app)
    try:
        for base in [live_server.url, other.url] * (PASSWORD_FAILURE_LIMIT // 2):
            assert guess(http, ingest_url(base), jpeg) == 401
        assert guess(http, ingest_url(other.url), jpeg, INGEST_PASSWORD) == 429
        assert guess(http, ingest_url(live_server.url), jpeg, INGEST_PASSWORD) == 429
    finally:
        other.stop()
        other_app.extensions["db_engine"].dispose()


def test_a_legacy_password_check_waits_for_its_turn_instead_of_refusing(
    app: Flask, live_server, http, jpeg, db_session, config
):
    """A legacy scrypt hash costs ~100 ms and 32 MiB per check, so only a few run at once; a
    burst right after an upgrade waits its turn rather than losing photos."""
    save_settings(
        db_session, config, {"ingest_password_hash": generate_password_hash(INGEST_PASSWORD)}, "old"
    )
    checks = app.extensions["photochanger.password_checks"]
    for _ in range(BOOTH_CHECKS_AT_ONCE):
        checks.acquire()
    answers: list[requests.Response] = []
    url = ingest_url(live_server.url)
    waiting = threading.Thread(
        target=lambda: answers.append(post_photo(requests.Session(), url, jpeg))
    )
    waiting.start()
    time.sleep(1)
    assert answers == []  # still waiting for a turn
    for _ in range(BOOTH_CHECKS_AT_ONCE):
        checks.release()
    waiting.join(15)
    assert [answer.status_code for answer in answers] == [200]


def test_a_legacy_scrypt_global_hash_works_and_is_upgraded_on_first_success(
    live_server, http, jpeg, db_session, config
):
    save_settings(
        db_session, config, {"ingest_password_hash": generate_password_hash("legacy")}, "old"
    )
    url = ingest_url(live_server.url)

    assert guess(http, url, jpeg, "wrong") == 401
    assert str(reload_settings(db_session, config).ingest_password_hash).startswith("scrypt:")
    assert guess(http, url, jpeg, "legacy") == 200

    stored = reload_settings(db_session, config).ingest_password_hash
    assert stored == hash_booth_password(config.booth_password_key, "legacy")
    assert guess(http, url, jpeg, "legacy") == 200


def test_a_legacy_scrypt_slot_hash_is_upgraded_without_a_new_slot_version(
    live_server, http, jpeg, db_session, config
):
    slot = db_session.get(Slot, "slot-001")
    slot.ingest_password_hash = generate_password_hash("slot-legacy")
    db_session.commit()
    version = slot.version

    assert guess(http, ingest_url(live_server.url), jpeg, "slot-legacy") == 200

    db_session.expire_all()
    slot = db_session.get(Slot, "slot-001")
    assert slot.ingest_password_hash.startswith(BOOTH_HASH_PREFIX)
    assert slot.version == version


def test_a_slot_password_set_by_an_admin_is_stored_as_a_keyed_hash(
    live_server, api_http, http, jpeg, db_session, config
):
    saved = api_http.put(
        f"{live_server.url}/api/slots/slot-001", json={"ingest_password": "booth-777"}
    )
    assert saved.status_code == 200, saved.text

    db_session.expire_all()
    stored = db_session.get(Slot, "slot-001").ingest_password_hash
    assert stored == hash_booth_password(config.booth_password_key, "booth-777")
    assert guess(http, ingest_url(live_server.url), jpeg, "booth-777") == 200


def test_the_keyed_hash_depends_on_the_secret_key(make_config):
    one, other = make_config(secret_key="one"), make_config(secret_key="other")
    stored = hash_booth_password(one.booth_password_key, "booth")
    assert check_booth_password(one.booth_password_key, stored, "booth").valid
    assert not check_booth_password(other.booth_password_key, stored, "booth").valid
    assert not check_booth_password(one.booth_password_key, stored, "booth ").valid


def test_generated_booth_passwords_are_long_and_random():
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(password) >= 20 for password in passwords)
