"""The settings' value types and the API models; the settings page validates with the same ones.

API requests are strict (a number must be a JSON number); the page's forms validate the same
models leniently (``strict=False``) because every form value arrives as text.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import MISSING, BaseModel, BeforeValidator, ConfigDict, Field


def _integral_float_to_int(value: Any) -> Any:
    """JSON Schema counts ``30.0`` as an integer, which strict validation would refuse."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


_WHOLE = BeforeValidator(_integral_float_to_int)
SyncResponseSeconds = Annotated[int, Field(ge=10, le=60), _WHOLE]
ResultTtlHours = Annotated[int, Field(ge=1, le=168), _WHOLE]
SlotConcurrency = Annotated[int, Field(ge=1, le=256), _WHOLE]
ProviderConcurrency = Annotated[int, Field(ge=1, le=1024), _WHOLE]
DedupeWindowMinutes = Annotated[int, Field(ge=0, le=1440), _WHOLE]
TelegramDailyLimit = Annotated[int, Field(ge=0, le=10_000), _WHOLE]
TelegramUserId = Annotated[int, Field(ge=1, le=2**53), _WHOLE]
TelegramAdminIds = Annotated[list[TelegramUserId], Field(max_length=100)]
PASSWORD_LENGTH = (4, 128)
API_KEY_LENGTH = (8, 512)
IngestPassword = Annotated[str, Field(min_length=PASSWORD_LENGTH[0], max_length=PASSWORD_LENGTH[1])]
ApiKey = Annotated[
    str,
    Field(min_length=API_KEY_LENGTH[0], max_length=API_KEY_LENGTH[1], pattern=r"^[\x21-\x7e]+$"),
]
"""Printable ASCII without spaces: every provider's keys look like that, and they go in headers."""
ShareMinutes = Annotated[int, Field(ge=5, le=120), _WHOLE]

_ID_SEPARATORS = re.compile(r"[\s,;]+")


class ProviderKeysUpdate(BaseModel):
    """Per provider: a new key, or null to clear the stored one; absent ones stay."""

    model_config = ConfigDict(extra="forbid", strict=True)

    gemini: ApiKey | MISSING | None = MISSING
    openai: ApiKey | MISSING | None = MISSING
    turbotext: ApiKey | MISSING | None = MISSING


class SettingsUpdate(BaseModel):
    """``PUT /api/settings``: any subset of the settings."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sync_response_seconds: SyncResponseSeconds | MISSING = MISSING
    result_ttl_hours: ResultTtlHours | MISSING = MISSING
    slot_concurrency: SlotConcurrency | MISSING = MISSING
    provider_concurrency: ProviderConcurrency | MISSING = MISSING
    dedupe_window_minutes: DedupeWindowMinutes | MISSING = MISSING
    telegram_daily_limit: TelegramDailyLimit | MISSING = MISSING
    telegram_admin_ids: TelegramAdminIds | MISSING = MISSING
    ingest_password: IngestPassword | MISSING = Field(
        default=MISSING, description="Write-only: the new global ingest password."
    )
    provider_keys: ProviderKeysUpdate | MISSING = MISSING

    def plain_changes(self) -> dict[str, Any]:
        """The given values that are stored as they are (not the password, not the keys)."""
        return self.model_dump(exclude={"ingest_password", "provider_keys"})


class ProviderKeyOut(BaseModel):
    configured: bool
    source: Literal["env", "settings"] | None = None
    updated_at: datetime | None = None
    last4: str | None = None
    unreadable: bool = False
    """Stored, but no key of SECRET_KEY and SECRET_KEY_FALLBACKS decrypts it."""


class SettingsOut(BaseModel):
    sync_response_seconds: int
    result_ttl_hours: int
    slot_concurrency: int
    provider_concurrency: int
    dedupe_window_minutes: int
    telegram_daily_limit: int
    telegram_admin_ids: list[int]
    ingest_password_set: bool
    ingest_password_updated_at: datetime | None
    ingest_password_updated_by: str | None
    provider_keys: dict[str, ProviderKeyOut]
    gallery_shared_until: datetime | None
    telegram_bot_username: str | None


class GalleryShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    minutes: ShareMinutes = 15


class GalleryShareOut(BaseModel):
    shared_until: datetime | None


def admin_ids_from_text(text: str) -> list[str]:
    """The form's "123, 456" as separate values for the model to read as numbers."""
    return [part for part in _ID_SEPARATORS.split(text) if part]


@cache
def number_bounds() -> dict[str, tuple[int, int]]:
    """Each numeric field's (minimum, maximum), for the forms' inputs and messages."""
    bounds: dict[str, tuple[int, int]] = {}
    for model in (SettingsUpdate, GalleryShareRequest):
        for name, schema in model.model_json_schema()["properties"].items():
            if schema.get("type") == "integer":
                bounds[name] = (schema["minimum"], schema["maximum"])
    return bounds


def _field_wording() -> dict[str, object]:
    """The settings forms' messages, one per field: each states the field's whole rule, which
    reads better next to a form field than the table's message for the one bound that failed."""
    low, high = PASSWORD_LENGTH
    key_low, key_high = API_KEY_LENGTH
    key = _l(
        "Paste the whole key: %(min)d to %(max)d characters, no spaces.", min=key_low, max=key_high
    )
    return {
        "telegram_admin_ids": _l("Enter Telegram user ids: whole numbers separated by commas."),
        "ingest_password": _l(
            "Enter a password of %(min)d to %(max)d characters.", min=low, max=high
        ),
        **dict.fromkeys(ProviderKeysUpdate.model_fields, key),
        **{
            name: _l("Enter a whole number from %(min)d to %(max)d.", min=low, max=high)
            for name, (low, high) in number_bounds().items()
        },
    }


FIELD_WORDING = _field_wording()
