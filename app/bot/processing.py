"""One photo through the booth pipeline for a Telegram user, inside the webhook request.

The job is admitted against the user's limits (one at a time, the daily count), the photo is
downloaded from Telegram into an unnamed temp file, and ``process_photo`` runs it like a booth
upload (source ``telegram``, no dedupe, no idempotent replay). While it works, a helper thread
repeats the ``upload_photo`` chat action. The job must end a few seconds before the update's
deadline, so the result (or the reason it failed) can still be sent in time.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.orm import Session
from telebot import TeleBot
from telebot.types import Message

from app.bot import buttons, state, texts
from app.bot.client import Failure, TelegramError, download
from app.bot.models import TelegramUser
from app.config import Config
from app.db import utcnow
from app.deadline import Deadline, request_arrived_at
from app.ingest.capacity import IngestCapacity
from app.ingest.errors import IngestError
from app.ingest.models import Job, JobSource
from app.ingest.schemas import IngestRequest, Upload
from app.ingest.service import process_photo
from app.media.storage import MediaStore, ResultKind
from app.providers.base import Outbound
from app.settings.service import RuntimeSettings
from app.slots.models import Slot
from app.urls import result_page_url

log = structlog.get_logger(__name__)

MAX_UPDATE_SECONDS = 45
"""Telegram counts an update as failed (and sends it again) after about 60 s."""
SEND_RESERVE_SECONDS = 6.0
"""Time kept after the job for sending its result."""
CHAT_ACTION_EVERY_SECONDS = 4.0
"""Telegram shows a chat action for about 5 s."""
CHAT_ACTION_CALL_SECONDS = 3
MAX_PHOTO_BYTES = 10 * 1024 * 1024
"""sendPhoto's limit; a larger result is offered as a link (and as a file by its button)."""
NOT_CHARGED = frozenset(
    {
        "server_busy",
        "slot_busy",
        "provider_busy",
        "provider_not_configured",
        "provider_key_unreadable",
        "payload_too_large",
        "unsupported_media_type",
        "invalid_image",
        "slot_not_found",
        "slot_disabled",
    }
)
"""Failures that end a job before any provider was called: they do not count for the day."""


@dataclass(frozen=True)
class Turn:
    """What handling one update needs: the bot, the database, the settings and its deadline."""

    bot: TeleBot
    session: Session
    config: Config
    runtime: RuntimeSettings
    store: MediaStore
    outbound: Outbound
    capacity: IngestCapacity
    deadline: Deadline
    update_id: int


def update_seconds(runtime: RuntimeSettings) -> int:
    """How long handling one update may take: T_sync_response, at most 45 s."""
    return min(runtime.sync_response_seconds, MAX_UPDATE_SECONDS)


def job_seconds(runtime: RuntimeSettings) -> int:
    """The longest a photo takes, as the bot announces it."""
    return round(update_seconds(runtime) - SEND_RESERVE_SECONDS)


def process(turn: Turn, user: TelegramUser, slot: Slot, file_id: str) -> None:
    """Run ``file_id`` through ``slot`` for ``user`` and send them the result or the reason."""
    chat_id = user.chat_id
    now = utcnow()
    is_admin = user.user_id in turn.runtime.telegram_admin_ids
    start = state.begin_job(
        turn.session,
        user.user_id,
        daily_limit=None if is_admin else turn.runtime.telegram_daily_limit,
        now=now,
        busy_for=turn.deadline.remaining() + SEND_RESERVE_SECONDS,
    )
    if start.admission is state.Admission.BUSY:
        turn.bot.send_message(chat_id, texts.still_busy())
        return
    if start.admission is state.Admission.LIMIT:
        limit = turn.runtime.telegram_daily_limit
        turn.bot.send_message(chat_id, texts.daily_limit(limit, start.resets_at, now))
        return
    job_deadline = Deadline(turn.deadline.expires_at - SEND_RESERVE_SECONDS)
    done: Job | None = None
    refund = True
    try:
        notice = turn.bot.send_message(chat_id, texts.processing(round(job_deadline.remaining())))
        with upload_photo_action(turn.bot, chat_id, job_deadline):
            done, refund = _run_job(turn, user, slot, file_id, job_deadline, notice)
        if done is not None:
            send_result(turn, chat_id, done)
            _delete(turn.bot, notice)
    finally:
        state.end_job(
            turn.session,
            user.user_id,
            job_id=done.id if done is not None else None,
            refund_day=state.utc_day(now) if refund else None,
        )


def _run_job(
    turn: Turn, user: TelegramUser, slot: Slot, file_id: str, deadline: Deadline, notice: Message
) -> tuple[Job | None, bool]:
    """The finished job (None when it failed and the user was told why), and whether the day's
    count is given back."""
    with turn.store.spool_file() as spool:
        try:
            download(turn.bot, file_id, spool)
        except TelegramError as error:
            log.warning("bot.download_failed", failure=str(error.failure), code=error.error_code)
            too_large = error.failure is Failure.TOO_LARGE
            _replace(
                turn.bot, notice, texts.file_too_large() if too_large else texts.download_failed()
            )
            return None, True
        request = IngestRequest(
            slot=slot,
            source=JobSource.TELEGRAM,
            upload=Upload(stream=spool, filename=None),
            client_meta={
                "telegram_user_id": str(user.user_id),
                "telegram_chat_id": str(user.chat_id),
                "telegram_file_id": file_id,
                "telegram_update_id": str(turn.update_id),
            },
            idempotency_key=None,
            dedupe_by_content=False,
            arrived_at=request_arrived_at(),
            deadline=deadline,
        )
        try:
            with turn.capacity.job():
                result = process_photo(
                    turn.session,
                    turn.config,
                    turn.store,
                    turn.runtime,
                    request,
                    turn.outbound,
                    turn.capacity,
                )
        except IngestError as error:
            log.warning(
                "bot.job_failed",
                update_id=turn.update_id,
                job_id=error.job_id,
                failure_reason=error.failure_reason,
            )
            _replace(turn.bot, notice, texts.failure(error.failure_reason))
            return None, error.failure_reason in NOT_CHARGED
    job = state.find_job(turn.session, result.job_id)
    if job is None:  # removed between commit and read: only an admin's manual delete does that
        _replace(turn.bot, notice, texts.result_expired(turn.runtime.result_ttl_hours))
        return None, False
    return job, False


def send_result(turn: Turn, chat_id: int, job: Job) -> None:
    """The result photo with its caption and buttons; after a flood-control refusal that cannot
    be waited out (or for a photo Telegram will not take), a text with the link instead."""
    link = result_page_url(job.id)
    slot = turn.session.get(Slot, job.slot_id)
    turn.session.commit()
    label = state.slot_label(slot) if slot is not None else job.slot_id
    assert job.result_expires_at is not None
    caption = texts.result_caption(label, link, job.result_expires_at)
    payload = turn.store.result_file(job, ResultKind.PAYLOAD).read_bytes()
    if len(payload) <= MAX_PHOTO_BYTES:
        for attempt in (1, 2):
            try:
                turn.bot.send_photo(
                    chat_id, payload, caption=caption, reply_markup=buttons.result(job.id)
                )
                return
            except TelegramError as error:
                if error.blocked or error.failure is not Failure.REJECTED:
                    raise
                wait = error.retry_after
                log.warning("bot.send_photo_refused", job_id=job.id, code=error.error_code)
                if attempt == 2 or wait is None or not turn.deadline.fits(wait + 1):
                    break
                time.sleep(wait)
    turn.bot.send_message(chat_id, texts.result_ready(link), reply_markup=buttons.result(job.id))


def send_original(turn: Turn, chat_id: int, job: Job) -> None:
    """The result as a file: full quality, no recompression by Telegram."""
    path = turn.store.result_file(job, ResultKind.PAYLOAD)
    turn.bot.send_document(
        chat_id, path.read_bytes(), visible_file_name=f"photochanger-{job.id}{path.suffix}"
    )


def live(job: Job | None, now: datetime) -> bool:
    return job is not None and job.has_live_result(now)


@contextmanager
def upload_photo_action(bot: TeleBot, chat_id: int, deadline: Deadline) -> Iterator[None]:
    """Show "sending a photo…" in the chat until the block ends or the deadline passes.

    A short-lived helper thread repeats the chat action (it lasts ~5 s on the user's screen)
    while the request thread waits for the provider; each call is capped to a few seconds.
    """
    stop = threading.Event()

    def repeat() -> None:
        while not stop.is_set() and not deadline.expired:
            try:
                bot.send_chat_action(chat_id, "upload_photo", timeout=CHAT_ACTION_CALL_SECONDS)
            except TelegramError as error:
                if error.blocked:
                    return
            stop.wait(min(CHAT_ACTION_EVERY_SECONDS, deadline.remaining()))

    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(repeat,), name="telegram-chat-action")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(CHAT_ACTION_CALL_SECONDS + 1)


def _replace(bot: TeleBot, notice: Message, text: str) -> None:
    """Turn the "Processing…" message into ``text`` (a new message if it cannot be edited)."""
    try:
        bot.edit_message_text(text, notice.chat.id, notice.message_id)
    except TelegramError as error:
        if error.blocked:
            raise
        bot.send_message(notice.chat.id, text)


def _delete(bot: TeleBot, notice: Message) -> None:
    try:
        bot.delete_message(notice.chat.id, notice.message_id)
    except TelegramError as error:
        log.info("bot.notice_not_deleted", code=error.error_code)
