"""What a cleanup run reports: counts, bytes freed, one summary line and its log fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.i18n import format_bytes


@dataclass
class CleanupSummary:
    """What one run did (or, in a dry run, would do). ``bytes_freed`` covers every removed file.

    A run counts into its own instance as it goes."""

    expired_results: int = 0
    bytes_freed: int = 0
    temp_removed: int = 0
    orphans_removed: int = 0
    interrupted: int = 0
    pruned_telegram_updates: int = 0
    pruned_login_attempts: int = 0
    pruned_rate_counters: int = 0
    pruned_pending_photos: int = 0
    pruned_telegram_counts: int = 0
    pruned_jobs: int = 0
    errors: int = 0
    skipped: bool = False
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def pruned_rows(self) -> int:
        return (
            self.pruned_telegram_updates
            + self.pruned_login_attempts
            + self.pruned_rate_counters
            + self.pruned_pending_photos
            + self.pruned_telegram_counts
            + self.pruned_jobs
        )

    def line(self) -> str:
        suffix = " (dry run)" if self.dry_run else ""
        if self.skipped:
            return f"cleanup: skipped, another cleanup is running{suffix}"
        errors = f", {self.errors} error{'s' if self.errors != 1 else ''}" if self.errors else ""
        return (
            f"cleanup: {self.expired_results} expired results, {self.temp_removed} temp, "
            f"{self.orphans_removed} orphans, {self.interrupted} interrupted, "
            f"pruned {self.pruned_rows} rows, {format_bytes(self.bytes_freed)} freed{errors} "
            f"in {self.seconds:.2f}s{suffix}"
        )

    def log_fields(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 3)}
