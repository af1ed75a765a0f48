"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from app.auth.models import Admin, LoginAttempt
from app.bot.models import (
    TelegramDailyCount,
    TelegramPendingPhoto,
    TelegramUpdate,
    TelegramUser,
)
from app.db import Base
from app.ingest.models import Job
from app.media.models import MediaObject
from app.ratelimit import RateCounter
from app.settings.models import SettingRow
from app.slots.models import Slot, TemplateMedia
from app.stats.models import JobDurationsHourly, JobStatsHourly, MediaUsage

__all__ = [
    "Admin",
    "Base",
    "Job",
    "JobDurationsHourly",
    "JobStatsHourly",
    "LoginAttempt",
    "MediaObject",
    "MediaUsage",
    "RateCounter",
    "SettingRow",
    "Slot",
    "TelegramDailyCount",
    "TelegramPendingPhoto",
    "TelegramUpdate",
    "TelegramUser",
    "TemplateMedia",
]
