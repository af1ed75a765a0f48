"""The cleanup step that prunes short-lived rows: Telegram updates, pending photos and daily
counts, login attempts and rate counters older than two days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from app.auth.models import LoginAttempt
from app.bot.models import TelegramDailyCount, TelegramPendingPhoto, TelegramUpdate
from app.ops.cleanup_run import CleanupRun
from app.ratelimit import RateCounter

ROW_AGE = timedelta(hours=48)


def prune_rows(run: CleanupRun) -> None:
    cutoff = run.now - ROW_AGE
    tally = run.tally
    tally.pruned_telegram_updates += prune(run, TelegramUpdate, TelegramUpdate.received_at < cutoff)
    tally.pruned_login_attempts += prune(run, LoginAttempt, LoginAttempt.created_at < cutoff)
    tally.pruned_rate_counters += prune(run, RateCounter, RateCounter.window_start < cutoff)
    tally.pruned_pending_photos += prune(
        run, TelegramPendingPhoto, TelegramPendingPhoto.expires_at < cutoff
    )
    tally.pruned_telegram_counts += prune(
        run, TelegramDailyCount, TelegramDailyCount.day < cutoff.date()
    )
    run.finish_batch()


def prune(run: CleanupRun, model: type[Any], condition: sa.ColumnElement[bool]) -> int:
    """Rows of ``model`` matching ``condition`` deleted (or, in a dry run, counted)."""
    if run.dry_run:
        return run.count(model, condition)
    return run.execute(sa.delete(model).where(condition))
