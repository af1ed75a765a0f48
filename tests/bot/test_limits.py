"""The bot's limits, kept in PostgreSQL: the daily count per user (admins exempt), one job at a
time per user, several users at once, and one update delivered to two app processes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.bot.models import TelegramUser
from app.db import utcnow
from app.ingest.models import Job
from app.settings.service import save_settings
from app.slots.models import Slot
from tests.bot import updates
from tests.bot.conftest import PUBLIC_BASE_URL, SECRET, SECRET_HEADER
from tests.support.fakes.telegram import TOKEN
from tests.support.images import make_image_bytes

LIMIT_REACHED = {
    "en": "You have used all 2 photos for today. The limit resets at 00:00 UTC",
    "ru": "Вы использовали все 2 фото на сегодня. Лимит обновится в 00:00 UTC",
}


def slow_styles(db_session, seconds: float) -> None:
    for slot_id in ("slot-001", "slot-002"):
        slot = db_session.get(Slot, slot_id)
        slot.settings = {**slot.settings, "delay_seconds": seconds}
    db_session.commit()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_daily_limit_refuses_with_the_reset_time(guest, db_session, config, language):
    save_settings(db_session, config, {"telegram_daily_limit": 2}, "tests")
    alice = guest(5001, language)
    alice.presses("s:slot-001")

    for _ in range(3):
        alice.sends_photo()

    assert len(alice.photos()) == 2
    assert alice.texts()[-1].startswith(LIMIT_REACHED[language])
    assert len(db_session.scalars(select(Job)).all()) == 2


def test_admins_have_no_daily_limit(guest, db_session, config):
    alice = guest(5001, "en")
    save_settings(
        db_session, config, {"telegram_daily_limit": 1, "telegram_admin_ids": [alice.id]}, "tests"
    )
    alice.presses("s:slot-001")

    alice.sends_photo()
    alice.sends_photo()
    alice.says("/status")

    assert len(alice.photos()) == 2
    assert alice.texts()[-1].startswith("You have no daily limit.")


def test_again_counts_toward_the_daily_limit(guest, db_session, config):
    save_settings(db_session, config, {"telegram_daily_limit": 2}, "tests")
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    alice.sends_photo()

    alice.presses_button("Again")
    alice.presses_button("Again")

    assert len(alice.photos()) == 2
    assert alice.texts()[-1].startswith(LIMIT_REACHED["en"])


def test_a_job_that_never_reached_the_provider_is_not_counted(guest, db_session, config):
    save_settings(db_session, config, {"telegram_daily_limit": 1}, "tests")
    alice = guest(5001, "en")
    alice.presses("s:slot-001")

    alice.sends_photo(b"\xff\xd8\xff\xe0 damaged")
    alice.sends_photo()

    assert len(alice.photos()) == 1


def test_a_second_photo_while_the_first_is_processed_is_refused(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    db_session.get(TelegramUser, alice.id).busy_until = utcnow() + timedelta(seconds=30)
    db_session.commit()

    alice.sends_photo()

    assert alice.texts()[-1] == "I am still working on your previous photo. Please wait for it."
    assert db_session.scalars(select(Job)).all() == []


def test_a_busy_mark_left_by_a_dead_process_lapses(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    db_session.get(TelegramUser, alice.id).busy_until = utcnow() - timedelta(seconds=1)
    db_session.commit()

    alice.sends_photo()

    assert len(alice.photos()) == 1


def webhook_post(url: str, update: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{url}/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET}, timeout=60
    )


def test_two_users_at_once_are_processed_side_by_side(live_server, styles, telegram, db_session):
    slow_styles(db_session, 2)
    users = [updates.person(5001, "en"), updates.person(5002, "ru")]
    for user in users:
        assert webhook_post(live_server.url, updates.button(user, "s:slot-001")).ok
    photos = [updates.photo(u, telegram.photo_sizes(make_image_bytes())) for u in users]

    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda u: webhook_post(live_server.url, u), photos))
    elapsed = time.monotonic() - started

    assert [(a.status_code, a.content) for a in answers] == [(200, b""), (200, b"")]
    assert elapsed < 4
    for user in users:
        sent = [c for c in telegram.sent_to(user["id"]) if c.method == "sendPhoto"]
        assert len(sent) == 1
    assert len(db_session.scalars(select(Job).where(Job.status == "done")).all()) == 2


def test_one_user_sending_two_photos_at_once_gets_one_processed(
    live_server, styles, telegram, db_session
):
    slow_styles(db_session, 2)
    user = updates.person(5001, "en")
    assert webhook_post(live_server.url, updates.button(user, "s:slot-001")).ok
    photos = [updates.photo(user, telegram.photo_sizes(make_image_bytes())) for _ in range(2)]

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda u: webhook_post(live_server.url, u), photos))

    assert [a.status_code for a in answers] == [200, 200]
    texts = telegram.texts_to(user["id"])
    assert "I am still working on your previous photo. Please wait for it." in texts
    assert len(db_session.scalars(select(Job)).all()) == 1


def test_an_update_delivered_to_two_app_processes_at_once_is_handled_once(
    start_gunicorn, styles, telegram, db_session
):
    slow_styles(db_session, 1.5)
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": telegram.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }
    first, second = start_gunicorn(**env), start_gunicorn(**env)
    user = updates.person(5001, "en")
    assert webhook_post(first.url, updates.button(user, "s:slot-001")).ok
    update = updates.photo(user, telegram.photo_sizes(make_image_bytes()))
    barrier = threading.Barrier(2)

    def deliver(url: str) -> requests.Response:
        barrier.wait()
        return webhook_post(url, update)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(deliver, [first.url, second.url]))

    assert [(a.status_code, a.content) for a in answers] == [(200, b""), (200, b"")]
    assert len(telegram.calls_of("sendPhoto")) == 1
    assert len(db_session.scalars(select(Job)).all()) == 1
