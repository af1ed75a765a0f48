"""The cleanup run prunes what the bot no longer needs: handled update ids, pending photos long
expired and daily counts of past days; today's state stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.bot.models import TelegramDailyCount, TelegramPendingPhoto, TelegramUpdate
from app.db import utcnow
from app.media.storage import MediaStore
from app.ops.cleanup import run_cleanup


def test_cleanup_prunes_old_bot_state_and_keeps_todays(db_session, media_root):
    now = utcnow()
    old = now - timedelta(hours=49)
    db_session.add_all(
        [
            TelegramUpdate(update_id=1, received_at=old),
            TelegramUpdate(update_id=2, received_at=now - timedelta(minutes=5)),
            TelegramPendingPhoto(user_id=7, chat_id=7, file_id="old", expires_at=old),
            TelegramPendingPhoto(user_id=7, chat_id=7, file_id="fresh", expires_at=now),
            TelegramDailyCount(user_id=7, day=(now - timedelta(days=3)).date(), jobs=4),
            TelegramDailyCount(user_id=7, day=now.date(), jobs=2),
        ]
    )
    db_session.commit()

    dry = run_cleanup(db_session, MediaStore(media_root), now=now, dry_run=True)
    summary = run_cleanup(db_session, MediaStore(media_root), now=now)

    assert (dry.pruned_telegram_updates, dry.pruned_telegram_counts) == (1, 1)
    assert summary.pruned_telegram_updates == 1
    assert summary.pruned_pending_photos == 1
    assert summary.pruned_telegram_counts == 1
    assert summary.pruned_rows == 3
    assert db_session.scalars(select(TelegramUpdate.update_id)).all() == [2]
    assert db_session.scalars(select(TelegramPendingPhoto.file_id)).all() == ["fresh"]
    assert db_session.scalars(select(TelegramDailyCount.day)).all() == [now.date()]
