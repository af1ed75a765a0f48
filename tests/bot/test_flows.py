"""The bot's conversations in both languages: /start and its deep links, /help, /styles,
/status, /lang, photos with and without a chosen style, and the result buttons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bot.models import TelegramPendingPhoto, TelegramUser
from app.db import utcnow
from app.ingest.models import Job
from app.slots.models import Slot
from tests.bot import updates
from tests.bot.conftest import PUBLIC_BASE_URL
from tests.support.images import make_image_bytes

GREETING = {
    "en": "Hi! I turn your photo into a picture in the style you choose.",
    "ru": "Привет! Я превращаю ваше фото в картинку в выбранном стиле.",
}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_start_greets_in_the_app_language_with_the_offered_styles(guest, language):
    alice = guest(5001, language)

    alice.says("/start")

    (message,) = alice.telegram.sent_to(alice.id)
    assert message.text.startswith(GREETING[language])
    assert "72" in message.text and "39" in message.text
    assert message.buttons == [("Sepia", "s:slot-001"), ("Black & white", "s:slot-002")]


def test_an_unknown_app_language_gets_russian(guest):
    guest(5001, "de").says("/start")
    guest(5002, None).says("/help")

    assert guest(5001).texts()[0].startswith(GREETING["ru"])
    assert guest(5002).texts()[0].startswith("Как это работает:")


def test_a_style_switched_off_disappears_from_the_keyboard(guest, db_session):
    slot = db_session.get(Slot, "slot-002")
    slot.is_active = False
    db_session.commit()
    alice = guest()

    alice.says("/styles")

    assert alice.last().buttons == [("Sepia", "s:slot-001")]


def test_with_no_style_offered_the_bot_says_so(guest, db_session):
    for slot in db_session.scalars(select(Slot)):
        slot.telegram_enabled = False
    db_session.commit()
    alice = guest(5001, "en")

    alice.says("/styles")

    assert "No styles are offered right now." in alice.last().text
    assert alice.last().buttons == []


@pytest.mark.parametrize(
    ("language", "selected"),
    [("en", "Style “Black & white” selected."), ("ru", "Выбран стиль «Black & white».")],
)
def test_start_with_a_slot_preselects_that_style(guest, db_session, language, selected):
    alice = guest(5001, language)

    alice.says("/start slot-002")

    assert alice.last().text.startswith(selected)
    assert db_session.get(TelegramUser, alice.id).selected_slot_id == "slot-002"


def test_start_with_a_slot_not_offered_shows_the_styles_instead(guest, db_session):
    alice = guest(5001, "en")

    alice.says("/start slot-009")

    assert alice.last().text.startswith("This style is not available any more.")
    assert len(alice.last().buttons) == 2
    assert db_session.get(TelegramUser, alice.id).selected_slot_id is None


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_photo_without_a_style_waits_for_a_button_then_comes_back_styled(
    guest, db_session, language
):
    alice = guest(5001, language)

    alice.sends_photo()
    kept = alice.last()
    alice.presses_button("Sepia")

    assert (
        kept.text
        == {
            "en": "Got your photo! Choose a style within 10 minutes:",
            "ru": "Фото получено! Выберите стиль в течение 10 минут:",
        }[language]
    )
    (photo,) = alice.photos()
    job = db_session.scalars(select(Job)).one()
    assert (job.source, job.status, job.slot_id) == ("telegram", "done", "slot-001")
    assert job.client_meta["telegram_user_id"] == str(alice.id)
    assert photo.params["photo"][:2] == b"\xff\xd8"
    assert f"{PUBLIC_BASE_URL}/r/{job.id}" in photo.text
    assert photo.text.startswith("Sepia\n")
    assert ("Again" if language == "en" else "Ещё раз", f"a:{job.id}") in photo.buttons
    processing = {"en": "Processing… up to 39 s", "ru": "Обрабатываю… до 39 с"}[language]
    assert processing in alice.texts()
    assert alice.telegram.calls_of("sendChatAction")[0].params["action"] == "upload_photo"
    assert [c.method for c in alice.telegram.calls][-1] == "deleteMessage"
    assert alice.telegram.calls_of("answerCallbackQuery")


def test_with_a_chosen_style_a_photo_is_processed_at_once(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-002")

    alice.sends_photo()

    assert alice.texts()[0] == "Style “Black & white” selected. Now send a photo."
    (photo,) = alice.photos()
    assert photo.text.startswith("Black & white\n")
    assert db_session.scalars(select(Job.slot_id)).all() == ["slot-002"]


def test_an_image_sent_as_a_file_is_processed_like_a_photo(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    stored = alice.telegram.add_file(make_image_bytes(fmt="PNG"), "documents", "png")

    alice.deliver(
        updates.document(alice.user, stored.file_id, len(stored.data), "image/png", "scan.png")
    )

    assert len(alice.photos()) == 1
    assert db_session.scalars(select(Job.input_mime)).all() == ["image/png"]


@pytest.mark.parametrize(
    ("mime", "size", "refusal"),
    [
        ("application/pdf", 1000, "I can only process images (JPEG, PNG or WEBP)."),
        ("image/jpeg", 21 * 1024 * 1024, "The file is larger than 20 MB."),
    ],
)
def test_a_file_that_is_not_an_image_or_too_large_gets_a_friendly_refusal(
    guest, db_session, mime, size, refusal
):
    alice = guest(5001, "en")

    alice.deliver(updates.document(alice.user, "BQACAgIAAxkBAAIfake", size, mime))

    assert alice.last().text.startswith(refusal)
    assert alice.telegram.calls_of("getFile") == []
    assert db_session.scalars(select(Job)).all() == []


def test_a_damaged_image_gets_its_own_message_and_a_failed_job(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")

    alice.sends_photo(b"\xff\xd8\xff\xe0 not really a jpeg")

    assert "could not be read" in alice.texts()[-1] or "not a photo" in alice.texts()[-1]
    job = db_session.scalars(select(Job)).one()
    assert job.status == "failed"
    assert alice.photos() == []


def test_again_reprocesses_the_same_photo_as_a_new_job(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    alice.sends_photo()

    alice.presses_button("Again")

    jobs = db_session.scalars(select(Job).order_by(Job.created_at)).all()
    assert len(jobs) == 2 and jobs[0].id != jobs[1].id
    assert jobs[0].input_sha256 == jobs[1].input_sha256
    assert len(alice.photos()) == 2


def test_another_style_offers_the_styles_for_the_same_photo(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    alice.sends_photo()

    alice.presses_button("Another style")
    alice.presses_button("Black & white")

    assert db_session.scalars(select(Job.slot_id).order_by(Job.created_at)).all() == [
        "slot-001",
        "slot-002",
    ]


def test_original_file_sends_the_result_as_a_document(guest, db_session, media_root):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    alice.sends_photo()

    alice.presses_button("Original file")

    (document,) = alice.telegram.calls_of("sendDocument")
    job = db_session.scalars(select(Job)).one()
    payload = (media_root / job.result_path).glob("payload.*")
    assert document.params["document"] == next(payload).read_bytes()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_start_with_a_result_sends_it_while_it_is_kept_then_says_it_expired(
    guest, db_session, language
):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    alice.sends_photo()
    job = db_session.scalars(select(Job)).one()
    bob = guest(5002, language)

    bob.says(f"/start r_{job.id}")
    job.result_expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    bob.says(f"/start r_{job.id}")

    assert len(bob.photos()) == 1
    assert (
        bob.texts()[-1]
        == {
            "en": "This result has expired: results are kept for 72 hours.",
            "ru": "Срок хранения этого результата истёк: результаты хранятся 72 ч.",
        }[language]
    )


@pytest.mark.parametrize("language", ["en", "ru"])
def test_status_shows_the_photos_left_and_the_last_result(guest, db_session, language):
    alice = guest(5001, language)
    alice.says("/status")
    alice.presses("s:slot-001")
    alice.sends_photo()

    alice.says("/status")

    job = db_session.scalars(select(Job)).one()
    before, after = alice.texts()[0], alice.texts()[-1]
    if language == "en":
        assert before.startswith("Photos left today: 10 of 10.")
        assert after.startswith("Photos left today: 9 of 10.")
    else:
        assert before.startswith("Осталось фото на сегодня: 10 из 10.")
        assert after.startswith("Осталось фото на сегодня: 9 из 10.")
    assert f"{PUBLIC_BASE_URL}/r/{job.id}" in after


def test_lang_switches_the_language_for_later_messages(guest, db_session):
    alice = guest(5001, "en")
    alice.says("/lang")
    assert alice.last().buttons == [("Русский", "l:ru"), ("English", "l:en")]

    alice.presses("l:ru")
    alice.says("/help")

    assert alice.texts()[-2] == "Теперь я говорю по-русски."
    assert alice.texts()[-1].startswith("Как это работает:")
    assert db_session.get(TelegramUser, alice.id).language == "ru"


@pytest.mark.parametrize("data", ["x", "s:slot-1", "a:short", "p:0:slot-001", "l:de", ""])
def test_a_forged_button_gets_a_polite_answer(guest, data):
    alice = guest(5001, "en")

    alice.presses(data)

    (answer,) = alice.telegram.calls_of("answerCallbackQuery")
    assert answer.params.get("text") == "This button is no longer valid."


def test_someone_elses_result_button_is_refused(guest, db_session):
    alice = guest(5001, "en")
    alice.presses("s:slot-001")
    alice.sends_photo()
    job = db_session.scalars(select(Job)).one()
    mallory = guest(6666, "en")

    mallory.presses(f"a:{job.id}")

    answer = alice.telegram.calls_of("answerCallbackQuery")[-1]
    assert answer.params["text"] == "This button is no longer valid."
    assert db_session.scalars(select(Job)).all() == [job]


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "That photo has expired. Please send it again."),
        ("ru", "Срок ожидания этого фото истёк. Отправьте его ещё раз."),
    ],
)
def test_a_button_for_an_expired_pending_photo_says_so(guest, db_session, language, said):
    alice = guest(5001, language)
    alice.sends_photo()
    pending = db_session.scalars(select(TelegramPendingPhoto)).one()
    pending.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()

    alice.presses_button("Sepia")

    assert alice.texts()[-1] == said
    assert alice.telegram.calls_of("answerCallbackQuery")
    assert db_session.scalars(select(Job)).all() == []


def test_plain_text_in_private_gets_a_hint(guest):
    alice = guest(5001, "en")

    alice.says("hello?")

    assert alice.last().text == "Send me a photo, or choose a style: /styles"
