"""Runtime settings: values an admin changes while the server runs, stored in PostgreSQL.

``load_settings`` is the one typed accessor; rows that were never saved fall back to the defaults
taken from the environment at start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.auth.passwords import generate_password, hash_booth_password
from app.config import Config
from app.db import utcnow
from app.settings.models import SettingRow
from app.settings.schemas import (
    DedupeWindowMinutes,
    ProviderConcurrency,
    ResultTtlHours,
    SlotConcurrency,
    SyncResponseSeconds,
    TelegramAdminIds,
    TelegramDailyLimit,
)

log = structlog.get_logger(__name__)


class RuntimeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sync_response_seconds: SyncResponseSeconds = 48
    result_ttl_hours: ResultTtlHours = 72
    slot_concurrency: SlotConcurrency = 3
    provider_concurrency: ProviderConcurrency = 10
    dedupe_window_minutes: DedupeWindowMinutes = 10
    telegram_daily_limit: TelegramDailyLimit = 10
    telegram_admin_ids: TelegramAdminIds = Field(default_factory=list)
    telegram_bot_username: str | None = None
    """Learnt from the Bot API's getMe; None until a bot token has been checked."""
    telegram_webhook_secret: str | None = None
    """Generated when the webhook is set without TELEGRAM_WEBHOOK_SECRET; never shown."""
    ingest_password_hash: str | None = None
    ingest_password_updated_at: datetime | None = None
    ingest_password_updated_by: str | None = None
    gallery_shared_until: datetime | None = None
    provider_keys: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Per provider: the encrypted key, when it was set and by whom, and its last 4 characters."""


def defaults_from(config: Config) -> dict[str, Any]:
    return {
        "sync_response_seconds": config.t_sync_response_seconds,
        "result_ttl_hours": config.result_ttl_hours,
    }


def load_settings(session: Session, config: Config) -> RuntimeSettings:
    stored = {row.key: row.value for row in session.scalars(select(SettingRow))}
    known = {key: value for key, value in stored.items() if key in RuntimeSettings.model_fields}
    return RuntimeSettings.model_validate({**defaults_from(config), **known})


def save_settings(
    session: Session, config: Config, changes: dict[str, Any], updated_by: str
) -> RuntimeSettings:
    """Validate ``changes`` against the whole settings model, then upsert the changed rows."""
    current = load_settings(session, config)
    merged = RuntimeSettings.model_validate({**current.model_dump(), **changes})
    now = utcnow()
    for key in changes:
        value = merged.model_dump(mode="json")[key]
        statement = insert(SettingRow).values(
            key=key, value=value, updated_at=now, updated_by=updated_by
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[SettingRow.key],
                set_={"value": value, "updated_at": now, "updated_by": updated_by},
            )
        )
    session.commit()
    log.info("settings.saved", keys=sorted(changes), updated_by=updated_by)
    return merged


def ensure_ingest_password(session: Session, config: Config) -> str | None:
    """Set the global ingest password at first start; returns it if it was generated."""
    if load_settings(session, config).ingest_password_hash:
        return None
    generated = None if config.ingest_password else generate_password()
    set_ingest_password(session, config, config.ingest_password or generated or "", "first start")
    return generated


def set_ingest_password(
    session: Session, config: Config, password: str, updated_by: str
) -> RuntimeSettings:
    return save_settings(
        session,
        config,
        {
            "ingest_password_hash": hash_booth_password(config.booth_password_key, password),
            "ingest_password_updated_at": utcnow(),
            "ingest_password_updated_by": updated_by,
        },
        updated_by,
    )


def upgrade_ingest_password_hash(session: Session, old_hash: str, new_hash: str) -> None:
    """Store the hash under the current key in place of the one that matched (legacy scrypt, a
    fallback key's, or one without key id), unless an admin changed the password meanwhile."""
    session.execute(
        update(SettingRow)
        .where(
            SettingRow.key == "ingest_password_hash",
            SettingRow.value == func.to_jsonb(sa.cast(old_hash, sa.Text)),
        )
        .values(value=func.to_jsonb(sa.cast(new_hash, sa.Text)))
    )
    session.commit()


def shared_gallery_until(runtime: RuntimeSettings, now: datetime) -> datetime | None:
    """When the shared /pubgallery closes, or None while it is closed."""
    until = runtime.gallery_shared_until
    return until if until is not None and until > now else None


def share_gallery(
    session: Session, config: Config, until: datetime | None, updated_by: str
) -> RuntimeSettings:
    """Open /pubgallery until ``until``; None closes it at once."""
    return save_settings(session, config, {"gallery_shared_until": until}, updated_by)
