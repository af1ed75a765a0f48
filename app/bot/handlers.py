"""The bot's conversations: commands, photos and buttons, each answered in the user's language.

Handlers are registered on a fresh ``TeleBot`` for every update and run synchronously inside
``process_new_updates``; everything they remember goes to PostgreSQL (``app.bot.state``). Edited
messages have no handler, so an edited photo is never processed again. In groups the bot only
answers commands and mentions addressed to it, pointing to a private chat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog
from flask_babel import force_locale
from telebot import types, util

from app.bot import admin, buttons, state, texts
from app.bot.client import MAX_DOWNLOAD_BYTES, TelegramError
from app.bot.models import TelegramUser
from app.bot.processing import Turn, job_seconds, live, process, send_original, send_result
from app.db import utcnow
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES
from app.urls import RESULT_START_PREFIX, result_page_url

log = structlog.get_logger(__name__)

PRIVATE = ["private"]
GROUPS = ("group", "supergroup")
ALL_CONTENT = util.content_type_media
IMAGE_MIME_PREFIX = "image/"
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@(?P<bot>[A-Za-z0-9_]+))?(?:\s|$)")


def handle_update(turn: Turn, update: types.Update) -> None:
    flows = Flows(turn)
    bot = turn.bot
    bot.register_message_handler(
        flows.group_message, func=lambda m: m.chat.type in GROUPS, content_types=ALL_CONTENT
    )
    for command, handler in flows.commands().items():
        bot.register_message_handler(handler, commands=[command], chat_types=PRIVATE)
    bot.register_message_handler(flows.photo, content_types=["photo"], chat_types=PRIVATE)
    bot.register_message_handler(flows.document, content_types=["document"], chat_types=PRIVATE)
    bot.register_message_handler(flows.other_text, content_types=["text"], chat_types=PRIVATE)
    bot.register_callback_query_handler(flows.button, func=lambda _call: True)
    bot.process_new_updates([update])


def language_of(user: TelegramUser | None, language_code: str | None) -> str:
    """The user's stored choice, else their Telegram app's language, else Russian."""
    if user is not None and user.language in LANGUAGES:
        return user.language
    code = (language_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


class Flows:
    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.bot = turn.bot
        self.session = turn.session

    def commands(self) -> dict[str, Callable[[types.Message], None]]:
        return {
            "start": self.start,
            "help": self.help,
            "styles": self.styles,
            "status": self.status,
            "lang": self.lang,
        }

    @contextmanager
    def speaking_to(self, sender: types.User | None, chat_id: int) -> Iterator[TelegramUser]:
        """The sender's row, with their language in force; any failure inside is logged and, if
        Telegram still accepts messages to the chat, the user is told."""
        if sender is None:
            raise ValueError("A private message without a sender.")
        user = state.load_user(self.session, sender.id, chat_id, utcnow())
        with force_locale(language_of(user, sender.language_code)):
            try:
                yield user
            except TelegramError as error:
                log.warning(
                    "bot.telegram_refused",
                    update_id=self.turn.update_id,
                    failure=str(error.failure),
                    code=error.error_code,
                    description=error.description,
                )
            except Exception:
                log.exception("bot.handler_failed", update_id=self.turn.update_id)
                self.session.rollback()
                self._try_to_tell(chat_id, texts.something_went_wrong())

    def _try_to_tell(self, chat_id: int, text: str) -> None:
        try:
            self.bot.send_message(chat_id, text)
        except TelegramError as error:
            log.warning(
                "bot.telegram_refused", update_id=self.turn.update_id, code=error.error_code
            )

    def start(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            payload = util.extract_arguments(message.text or "") or ""
            if payload.startswith(RESULT_START_PREFIX):
                self._send_stored_result(user, payload.removeprefix(RESULT_START_PREFIX))
                return
            if payload:
                self._preselect(user, payload)
                return
            runtime = self.turn.runtime
            greeting = texts.greeting(self._job_seconds(), runtime.result_ttl_hours)
            self._offer_styles(user, greeting)

    def help(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            text = texts.help_text(self._job_seconds(), self.turn.runtime.result_ttl_hours)
            self.bot.send_message(user.chat_id, text)

    def styles(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            self._offer_styles(user, texts.choose_style())

    def status(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            runtime = self.turn.runtime
            now = utcnow()
            limit = runtime.telegram_daily_limit
            left = None
            if limit and user.user_id not in runtime.telegram_admin_ids:
                left = max(0, limit - state.jobs_on(self.session, user.user_id, state.utc_day(now)))
            self.session.commit()
            last = state.find_job(self.session, user.last_job_id)
            link = result_page_url(last.id) if last is not None and live(last, now) else None
            self.bot.send_message(user.chat_id, texts.status(left, limit, link))

    def lang(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            self.bot.send_message(
                user.chat_id, texts.choose_language(), reply_markup=buttons.languages()
            )

    def photo(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            sizes = message.photo or []
            if sizes:
                self._photo_received(user, sizes[-1].file_id)

    def document(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            document = message.document
            if document is None:
                return
            if not (document.mime_type or "").startswith(IMAGE_MIME_PREFIX):
                self.bot.send_message(user.chat_id, texts.not_an_image())
            elif (document.file_size or 0) > MAX_DOWNLOAD_BYTES:
                self.bot.send_message(user.chat_id, texts.file_too_large())
            else:
                self._photo_received(user, document.file_id)

    def other_text(self, message: types.Message) -> None:
        with self.speaking_to(message.from_user, message.chat.id) as user:
            self.bot.send_message(user.chat_id, texts.send_a_photo())

    def group_message(self, message: types.Message) -> None:
        """Commands and mentions addressed to the bot get a pointer to a private chat; photos
        are never processed in groups and other messages are not answered."""
        sender = message.from_user
        with force_locale(language_of(None, sender.language_code if sender else None)):
            try:
                username = self._username()
                if not _addressed_to(message, username):
                    return
                link = f"https://t.me/{username}" if username else "https://t.me"
                self.bot.send_message(message.chat.id, texts.private_chat_only(link))
            except TelegramError as error:
                log.warning(
                    "bot.telegram_refused", update_id=self.turn.update_id, code=error.error_code
                )

    def button(self, call: types.CallbackQuery) -> None:
        chat_id = call.message.chat.id if call.message is not None else call.from_user.id
        with self.speaking_to(call.from_user, chat_id) as user:
            press = buttons.parse(call.data)
            if press is None:
                self.bot.answer_callback_query(call.id, texts.invalid_button())
                return
            self._press(user, call.id, press)

    def _press(self, user: TelegramUser, query_id: str, press: buttons.Press) -> None:
        action = press.action
        if action is buttons.Action.LANGUAGE:
            state.update_user(self.session, user.user_id, utcnow(), language=press.language)
            with force_locale(press.language):
                self.bot.answer_callback_query(query_id)
                self.bot.send_message(user.chat_id, texts.language_set())
            return
        if action in (buttons.Action.STYLE, buttons.Action.PENDING):
            self._style_pressed(user, query_id, press)
            return
        job = state.find_job(self.session, press.job_id)
        if job is None or not state.owned_by(job, user.user_id):
            self.bot.answer_callback_query(query_id, texts.invalid_button())
            return
        self.bot.answer_callback_query(query_id)
        file_id = job.client_meta.get("telegram_file_id")
        if action is buttons.Action.ORIGINAL:
            if live(job, utcnow()):
                send_original(self.turn, user.chat_id, job)
            else:
                expired = texts.result_expired(self.turn.runtime.result_ttl_hours)
                self.bot.send_message(user.chat_id, expired)
        elif action is buttons.Action.ANOTHER and file_id:
            pending_id = state.keep_pending_photo(
                self.session, user.user_id, user.chat_id, file_id, utcnow()
            )
            self._offer_styles(user, texts.choose_style(), pending_id)
        elif action is buttons.Action.AGAIN and file_id:
            slot = state.offered_slot(self.session, job.slot_id)
            if slot is None:
                self._offer_styles(user, texts.style_unavailable())
            else:
                process(self.turn, user, slot, file_id)

    def _style_pressed(self, user: TelegramUser, query_id: str, press: buttons.Press) -> None:
        slot = state.offered_slot(self.session, press.slot_id)
        if slot is None:
            self.bot.answer_callback_query(query_id)
            self._offer_styles(user, texts.style_unavailable(), press.pending_id)
            return
        state.update_user(self.session, user.user_id, utcnow(), selected_slot_id=slot.slot_id)
        if press.pending_id is None:
            self.bot.answer_callback_query(query_id)
            self.bot.send_message(user.chat_id, texts.style_selected(state.slot_label(slot)))
            return
        file_id = state.take_pending_photo(self.session, press.pending_id, user.user_id, utcnow())
        self.bot.answer_callback_query(query_id)
        if file_id is None:
            self.bot.send_message(user.chat_id, texts.pending_expired())
            return
        process(self.turn, user, slot, file_id)

    def _photo_received(self, user: TelegramUser, file_id: str) -> None:
        slot = state.offered_slot(self.session, user.selected_slot_id)
        if slot is not None:
            process(self.turn, user, slot, file_id)
            return
        pending_id = state.keep_pending_photo(
            self.session, user.user_id, user.chat_id, file_id, utcnow()
        )
        minutes = int(state.PENDING_PHOTO_TTL.total_seconds() // 60)
        self._offer_styles(user, texts.photo_kept(minutes), pending_id)

    def _offer_styles(self, user: TelegramUser, text: str, pending_id: int | None = None) -> None:
        slots = state.offered_slots(self.session)
        if not slots:
            self.bot.send_message(user.chat_id, f"{text}\n\n{texts.no_styles()}")
            return
        markup = buttons.styles(slots, pending_id)
        self.bot.send_message(user.chat_id, text, reply_markup=markup)

    def _preselect(self, user: TelegramUser, slot_id: str) -> None:
        """``/start slot-007`` (an event's QR code): that style is chosen."""
        slot = state.offered_slot(self.session, slot_id)
        if slot is None:
            self._offer_styles(user, texts.style_unavailable())
            return
        state.update_user(self.session, user.user_id, utcnow(), selected_slot_id=slot.slot_id)
        self.bot.send_message(user.chat_id, texts.style_selected(state.slot_label(slot)))

    def _send_stored_result(self, user: TelegramUser, job_id: str) -> None:
        """``/start r_<job>`` (the result page's Telegram button): the picture while it is kept."""
        job = state.find_job(self.session, job_id)
        if job is None or not live(job, utcnow()):
            self.bot.send_message(
                user.chat_id, texts.result_expired(self.turn.runtime.result_ttl_hours)
            )
            return
        send_result(self.turn, user.chat_id, job)

    def _job_seconds(self) -> int:
        return job_seconds(self.turn.runtime)

    def _username(self) -> str | None:
        """The bot's @username (mentions, links), learnt from getMe once and then remembered."""
        username = self.turn.runtime.telegram_bot_username
        if username is None:
            username = admin.bot_user(self.bot).username
            admin.remember_username(self.session, self.turn.config, username, "telegram")
        return username


def _addressed_to(message: types.Message, username: str | None) -> bool:
    """A command for this bot (``/cmd`` or ``/cmd@ThisBot``) or a mention of ``@ThisBot``."""
    text = message.text or message.caption or ""
    command = _COMMAND.match(message.text or "")
    if command is not None:
        target = command["bot"]
        return target is None or (username is not None and target.lower() == username.lower())
    if username is None:
        return False
    return re.search(rf"(?<![\w@])@{re.escape(username)}\b", text, re.IGNORECASE) is not None
