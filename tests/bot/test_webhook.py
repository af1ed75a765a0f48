"""``POST /telegram/webhook`` as Telegram calls it: the secret, malformed bodies, redeliveries,
edited messages, groups, and Telegram or the provider failing — always 200 once handled."""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import select

from app.bot.models import TelegramUpdate, TelegramUser
from app.ingest.models import Job
from app.settings.service import save_settings
from tests.bot import updates
from tests.support.fakes.gemini import HANG
from tests.support.fakes.telegram import BOT_USER, TOKEN
from tests.support.images import make_image_bytes
from tests.support.stored import use_provider

BOT_LINK = f"https://t.me/{BOT_USER['username']}"


@pytest.mark.parametrize("secret", [None, "", "hook_Secret-0043", "HOOK_SECRET-0042"])
def test_a_wrong_or_missing_secret_is_forbidden_and_nothing_happens(
    deliver, telegram, db_session, secret
):
    response = deliver(updates.text(updates.person(5001), "/start"), secret=secret)

    assert response.status_code == 403
    assert telegram.calls == []
    assert db_session.scalars(select(TelegramUpdate)).all() == []


@pytest.mark.parametrize("config", [{"telegram_bot_token": None}], indirect=True)
def test_without_a_bot_token_the_webhook_does_not_exist(deliver):
    response = deliver(updates.text(updates.person(5001), "/start"))

    assert response.status_code == 404


@pytest.mark.parametrize("config", [{"telegram_webhook_secret": None}], indirect=True)
def test_the_secret_generated_by_set_webhook_is_the_one_checked(
    deliver, telegram, db_session, config
):
    save_settings(db_session, config, {"telegram_webhook_secret": "stored_Secret_1"}, "tests")
    update = updates.text(updates.person(5001), "/help")

    assert deliver(update, secret="hook_Secret-0042").status_code == 403
    assert deliver(update, secret="stored_Secret_1").status_code == 200
    assert len(telegram.calls_of("sendMessage")) == 1


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"message": {}}', b'{"update_id": "7"}', b'{"update_id": -1}']
)
def test_a_body_that_is_not_an_update_is_a_bad_request(client, styles, telegram, body):
    response = client.post(
        "/telegram/webhook",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": "hook_Secret-0042"},
    )

    assert response.status_code == 400
    assert telegram.calls == []


def test_a_redelivered_update_is_handled_once(deliver, telegram, db_session, guest):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    update = updates.photo(alice.user, telegram.photo_sizes(make_image_bytes()))

    first, second = deliver(update), deliver(update)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.data, second.data) == (b"", b"")
    assert len(alice.photos()) == 1
    assert len(db_session.scalars(select(Job)).all()) == 1


def test_an_edited_message_with_a_photo_is_not_processed(deliver, telegram, db_session, guest):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    calls_before = len(telegram.calls)
    original = updates.photo(alice.user, telegram.photo_sizes(b"\xff\xd8"))

    response = deliver(updates.edited(original))

    assert (response.status_code, response.data) == (200, b"")
    assert len(telegram.calls) == calls_before
    assert db_session.scalars(select(Job)).all() == []


@pytest.mark.parametrize(
    ("language", "reply"),
    [
        ("en", f"I process photos in a private chat only: {BOT_LINK}"),
        ("ru", f"Я обрабатываю фото только в личном чате: {BOT_LINK}"),
    ],
)
def test_a_group_photo_mentioning_the_bot_gets_a_pointer_to_a_private_chat(
    deliver, telegram, db_session, language, reply
):
    group = updates.group_chat()
    sizes = telegram.photo_sizes(b"\xff\xd8")
    photo = updates.photo(
        updates.person(5001, language),
        sizes,
        caption="@PhotoChangerTestBot make me pop art",
        chat=group,
    )

    response = deliver(photo)

    assert (response.status_code, response.data) == (200, b"")
    assert telegram.texts_to(group["id"]) == [reply]
    assert telegram.calls_of("getFile") == []
    assert db_session.scalars(select(Job)).all() == []
    assert db_session.scalars(select(TelegramUser)).all() == []


@pytest.mark.parametrize(
    ("words", "answered"),
    [
        ("/start", True),
        ("/start@PhotoChangerTestBot", True),
        ("/help@photochangertestbot", True),
        ("/start@SomeOtherBot", False),
        ("nice party!", False),
        ("ask @PhotoChangerTestBot", True),
        ("mail me at x@PhotoChangerTestBot.example", False),
    ],
)
def test_in_groups_only_commands_and_mentions_for_this_bot_are_answered(
    deliver, telegram, words, answered
):
    group = updates.group_chat()

    deliver(updates.text(updates.person(5001, "en"), words, chat=group))

    assert len(telegram.texts_to(group["id"])) == (1 if answered else 0)


def test_a_user_who_blocked_the_bot_is_logged_and_telegram_gets_200(
    guest, telegram, db_session, capfd
):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    telegram.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")

    response = alice.sends_photo()

    assert (response.status_code, response.data) == (200, b"")
    logged = capfd.readouterr().out
    assert "Forbidden: bot was blocked by the user" in logged
    assert TOKEN not in "\n".join(line for line in logged.splitlines() if line.startswith("{"))
    user = db_session.get(TelegramUser, alice.id)
    db_session.refresh(user)
    assert user.busy_until is None
    assert db_session.scalars(select(Job).where(Job.status == "pending")).all() == []


def test_flood_control_on_send_photo_is_waited_out_when_it_fits(guest, telegram):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    telegram.fail("sendPhoto", 429, "Too Many Requests: retry after 1", retry_after=1, times=1)

    alice.sends_photo()

    first, second = telegram.calls_of("sendPhoto")
    assert second.at - first.at >= 1.0
    assert alice.photos()[-1].text.startswith("Sepia")


def test_flood_control_that_does_not_fit_sends_the_link_as_text(guest, telegram, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    telegram.fail("sendPhoto", 429, "Too Many Requests: retry after 60", retry_after=60)

    alice.sends_photo()

    job = db_session.scalars(select(Job)).one()
    assert len(telegram.calls_of("sendPhoto")) == 1
    assert alice.texts()[-1] == f"Your picture is ready: https://photo.example/r/{job.id}"
    assert ("Again", f"a:{job.id}") in alice.last().buttons


def test_a_provider_that_hangs_ends_in_a_timeout_message_within_the_bound(
    guest, telegram, gemini, db_session, config
):
    use_provider(db_session, "gemini", {"model": "gemini-2.5-flash-image", "prompt": "Pop art."})
    save_settings(db_session, config, {"sync_response_seconds": 15}, "tests")
    gemini.script(HANG)
    alice = guest(5001, "en")
    alice.presses("s:slot-001")

    started = time.monotonic()
    response = alice.sends_photo()
    elapsed = time.monotonic() - started

    assert (response.status_code, response.data) == (200, b"")
    assert elapsed < 15
    assert alice.texts()[-1] == "Processing took too long. Please try again."
    assert alice.telegram.calls_of("editMessageText")
    job = db_session.scalars(select(Job)).one()
    assert (job.status, job.failure_reason) == ("timeout", "timeout")
    actions = telegram.calls_of("sendChatAction")
    assert len(actions) >= 2
    assert all(b.at - a.at >= 3.5 for a, b in itertools.pairwise(actions))
