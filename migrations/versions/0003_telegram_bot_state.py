"""telegram bot state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

The bot keeps everything it remembers between updates in PostgreSQL, because updates of one user
may reach any worker on any host: a user's running job (``busy_until``, one at a time), the last
result, and the jobs started per user and UTC day for the daily limit.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "telegram_users", sa.Column("busy_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("telegram_users", sa.Column("last_job_id", sa.String(length=32), nullable=True))
    op.create_table(
        "telegram_daily_counts",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day"),
    )
    op.create_index("ix_telegram_daily_counts_day", "telegram_daily_counts", ["day"])


def downgrade() -> None:
    op.drop_index("ix_telegram_daily_counts_day", table_name="telegram_daily_counts")
    op.drop_table("telegram_daily_counts")
    op.drop_column("telegram_users", "last_job_id")
    op.drop_column("telegram_users", "busy_until")
