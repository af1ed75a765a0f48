"""What the bot remembers between updates, in PostgreSQL only: any worker on any host may get a
user's next update. Every function commits its own unit of work, so no transaction stays open
while Telegram or a provider is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.bot.models import TelegramDailyCount, TelegramPendingPhoto, TelegramUpdate, TelegramUser
from app.ingest.models import Job, JobSource
from app.slots.models import Slot

PENDING_PHOTO_TTL = timedelta(minutes=10)


def claim_update(session: Session, update_id: int, now: datetime) -> bool:
    """Record ``update_id`` as handled; False when some process already did (a redelivery)."""
    claimed = session.execute(
        insert(TelegramUpdate)
        .values(update_id=update_id, received_at=now)
        .on_conflict_do_nothing(index_elements=[TelegramUpdate.update_id])
        .returning(TelegramUpdate.update_id)
    ).first()
    session.commit()
    return claimed is not None


def load_user(session: Session, user_id: int, chat_id: int, now: datetime) -> TelegramUser:
    """The user's row, created on first contact."""
    session.execute(
        insert(TelegramUser)
        .values(user_id=user_id, chat_id=chat_id, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=[TelegramUser.user_id])
    )
    user = session.get_one(TelegramUser, user_id, populate_existing=True)
    session.commit()
    return user


def update_user(session: Session, user_id: int, now: datetime, **values: object) -> None:
    session.execute(
        sa.update(TelegramUser)
        .where(TelegramUser.user_id == user_id)
        .values(updated_at=now, **values)
    )
    session.commit()


def offered_slots(session: Session) -> list[Slot]:
    """The styles offered in Telegram, in slot order."""
    statement = (
        sa.select(Slot)
        .where(Slot.telegram_enabled.is_(True), Slot.is_active.is_(True))
        .order_by(Slot.slot_id)
    )
    slots = list(session.scalars(statement))
    session.commit()
    return slots


def offered_slot(session: Session, slot_id: str | None) -> Slot | None:
    if slot_id is None:
        return None
    slot = session.get(Slot, slot_id)
    session.commit()
    if slot is None or not (slot.telegram_enabled and slot.is_active):
        return None
    return slot


def slot_label(slot: Slot) -> str:
    return slot.telegram_label or slot.display_name


def keep_pending_photo(
    session: Session, user_id: int, chat_id: int, file_id: str, now: datetime
) -> int:
    """Keep a photo that arrived without a chosen style; returns its id for the buttons."""
    pending = TelegramPendingPhoto(
        user_id=user_id,
        chat_id=chat_id,
        file_id=file_id,
        created_at=now,
        expires_at=now + PENDING_PHOTO_TTL,
    )
    session.add(pending)
    session.commit()
    return pending.id


def take_pending_photo(
    session: Session, pending_id: int, user_id: int, now: datetime
) -> str | None:
    """The file id of the user's pending photo, removed so a second press does nothing; None
    when it expired, was already used, or is someone else's."""
    file_id = session.scalar(
        sa.delete(TelegramPendingPhoto)
        .where(
            TelegramPendingPhoto.id == pending_id,
            TelegramPendingPhoto.user_id == user_id,
            TelegramPendingPhoto.expires_at > now,
        )
        .returning(TelegramPendingPhoto.file_id)
    )
    session.commit()
    return file_id


class Admission(StrEnum):
    ADMITTED = "admitted"
    BUSY = "busy"
    """One of the user's photos is still being processed."""
    LIMIT = "limit"


@dataclass(frozen=True)
class JobStart:
    admission: Admission
    used_today: int
    resets_at: datetime


def utc_day(now: datetime) -> date:
    return now.date()


def next_reset(now: datetime) -> datetime:
    """When the daily counts start again: the next midnight UTC."""
    return datetime.combine(utc_day(now) + timedelta(days=1), time(), tzinfo=now.tzinfo)


def begin_job(
    session: Session, user_id: int, *, daily_limit: int | None, now: datetime, busy_for: float
) -> JobStart:
    """Admit one job for the user: not while another of theirs runs, and (unless
    ``daily_limit`` is None or 0) not past the day's limit. An admitted job counts at once."""
    day = utc_day(now)
    busy_until = session.scalar(
        sa.select(TelegramUser.busy_until).where(TelegramUser.user_id == user_id).with_for_update()
    )
    used = jobs_on(session, user_id, day)
    if busy_until is not None and busy_until > now:
        session.rollback()
        return JobStart(Admission.BUSY, used, next_reset(now))
    if daily_limit and used >= daily_limit:
        session.rollback()
        return JobStart(Admission.LIMIT, used, next_reset(now))
    _count_job(session, user_id, day, 1)
    session.execute(
        sa.update(TelegramUser)
        .where(TelegramUser.user_id == user_id)
        .values(busy_until=now + timedelta(seconds=busy_for))
    )
    session.commit()
    return JobStart(Admission.ADMITTED, used + 1, next_reset(now))


def end_job(session: Session, user_id: int, *, job_id: str | None, refund_day: date | None) -> None:
    """The user may start another job; ``job_id`` becomes their last result, and a job that
    never reached the provider is given back to the day's count."""
    session.rollback()
    values: dict[str, object] = {"busy_until": None}
    if job_id is not None:
        values["last_job_id"] = job_id
    session.execute(sa.update(TelegramUser).where(TelegramUser.user_id == user_id).values(values))
    if refund_day is not None:
        _count_job(session, user_id, refund_day, -1)
    session.commit()


def jobs_on(session: Session, user_id: int, day: date) -> int:
    count = session.scalar(
        sa.select(TelegramDailyCount.jobs).where(
            TelegramDailyCount.user_id == user_id, TelegramDailyCount.day == day
        )
    )
    return count or 0


def _count_job(session: Session, user_id: int, day: date, delta: int) -> None:
    statement = insert(TelegramDailyCount).values(user_id=user_id, day=day, jobs=max(delta, 0))
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[TelegramDailyCount.user_id, TelegramDailyCount.day],
            set_={"jobs": sa.func.greatest(TelegramDailyCount.jobs + delta, 0)},
        )
    )


def find_job(session: Session, job_id: str | None) -> Job | None:
    if not job_id:
        return None
    job = session.get(Job, job_id)
    session.commit()
    return job


def owned_by(job: Job, user_id: int) -> bool:
    """Whether the job came from this Telegram user (buttons carry only the job id)."""
    sender = job.client_meta.get("telegram_user_id")
    return job.source == JobSource.TELEGRAM and sender == str(user_id)
