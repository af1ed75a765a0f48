"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22

The whole schema, and the 15 slots seeded with the offline `local` provider, each with its own
style, so a fresh install processes photos at once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SEED_STYLES = (
    ("sepia", "Sepia"),
    ("bw", "Black & white"),
    ("pencil", "Pencil sketch"),
    ("pop_art", "Pop art"),
    ("cartoon", "Cartoon"),
    ("vignette", "Vignette"),
    ("posterize", "Poster"),
    ("duotone", "Duotone"),
    ("warm", "Warm film"),
    ("cool", "Cool film"),
    ("solarize", "Solarize"),
    ("emboss", "Emboss"),
    ("pixelate", "Pixel art"),
    ("neon", "Neon edges"),
    ("negative", "Negative"),
)


def seed_slots() -> None:
    slots = sa.table(
        "slots",
        sa.column("slot_id", sa.String),
        sa.column("display_name", sa.String),
        sa.column("is_active", sa.Boolean),
        sa.column("provider", sa.String),
        sa.column("settings", postgresql.JSONB),
        sa.column("output_format", sa.String),
        sa.column("output_quality", sa.Integer),
        sa.column("max_side", sa.Integer),
        sa.column("size_limit_mb", sa.Integer),
        sa.column("public_gallery", sa.Boolean),
        sa.column("telegram_enabled", sa.Boolean),
        sa.column("telegram_label", sa.String),
        sa.column("version", sa.Integer),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by", sa.String),
    )
    op.bulk_insert(
        slots,
        [
            {
                "slot_id": f"slot-{number:03d}",
                "display_name": label,
                "is_active": True,
                "provider": "local",
                "settings": {"style": style, "delay_seconds": 0},
                "output_format": "same",
                "output_quality": 92,
                "max_side": 2048,
                "size_limit_mb": 20,
                "public_gallery": False,
                "telegram_enabled": False,
                "telegram_label": label,
                "version": 1,
                "updated_at": datetime.now(UTC),
                "updated_by": "migration",
            }
            for number, (style, label) in enumerate(SEED_STYLES, start=1)
        ],
    )


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_attempts_ip", "login_attempts", ["ip", "created_at"], unique=False)
    op.create_index(
        "ix_login_attempts_username", "login_attempts", ["username", "created_at"], unique=False
    )
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )
    op.create_index("ix_rate_counters_window", "rate_counters", ["window_start"], unique=False)
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "slots",
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("output_format", sa.String(length=8), nullable=False),
        sa.Column("output_quality", sa.Integer(), nullable=False),
        sa.Column("max_side", sa.Integer(), nullable=False),
        sa.Column("size_limit_mb", sa.Integer(), nullable=False),
        sa.Column("ingest_password_hash", sa.String(length=255), nullable=True),
        sa.Column("public_gallery", sa.Boolean(), nullable=False),
        sa.Column("telegram_enabled", sa.Boolean(), nullable=False),
        sa.Column("telegram_label", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("slot_id"),
    )
    op.create_table(
        "telegram_pending_photos",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_telegram_pending_user",
        "telegram_pending_photos",
        ["user_id", "expires_at"],
        unique=False,
    )
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index(
        "ix_telegram_updates_received", "telegram_updates", ["received_at"], unique=False
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=48), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("input_sha256", sa.String(length=64), nullable=True),
        sa.Column("input_bytes", sa.Integer(), nullable=True),
        sa.Column("input_mime", sa.String(length=32), nullable=True),
        sa.Column("client_meta", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("provider_ms", sa.Integer(), nullable=True),
        sa.Column("result_path", sa.String(length=255), nullable=True),
        sa.Column("result_mime", sa.String(length=32), nullable=True),
        sa.Column("result_bytes", sa.Integer(), nullable=True),
        sa.Column("result_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleaned_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IN ('ingest', 'ui_test', 'telegram', 'api')", name="ck_jobs_source"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed', 'timeout', 'interrupted')",
            name="ck_jobs_status",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slots.slot_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"], unique=False)
    op.create_index(
        "ix_jobs_dedupe", "jobs", ["slot_id", "input_sha256", "created_at"], unique=False
    )
    op.create_index(
        "ix_jobs_idempotency",
        "jobs",
        ["slot_id", "idempotency_key"],
        unique=False,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_index(
        "ix_jobs_live_results",
        "jobs",
        ["result_expires_at"],
        unique=False,
        postgresql_where=sa.text("result_path IS NOT NULL AND cleaned_at IS NULL"),
    )
    op.create_index(
        "ix_jobs_pending_slot",
        "jobs",
        ["slot_id", "deadline_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_jobs_pending_provider",
        "jobs",
        ["provider", "deadline_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_jobs_slot_created", "jobs", ["slot_id", "created_at"], unique=False)
    op.create_table(
        "telegram_users",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("selected_slot_id", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["selected_slot_id"],
            ["slots.slot_id"],
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "template_media",
        sa.Column("media_id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slots.slot_id"],
        ),
        sa.PrimaryKeyConstraint("media_id"),
    )
    op.create_index(op.f("ix_template_media_slot_id"), "template_media", ["slot_id"], unique=False)
    op.create_table(
        "media_objects",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slots.slot_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_media_objects_job", "media_objects", ["job_id"], unique=False)
    op.create_index(
        "ix_media_objects_live",
        "media_objects",
        ["kind"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    seed_slots()


def downgrade() -> None:
    op.drop_index(
        "ix_media_objects_live",
        table_name="media_objects",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("ix_media_objects_job", table_name="media_objects")
    op.drop_table("media_objects")
    op.drop_index(op.f("ix_template_media_slot_id"), table_name="template_media")
    op.drop_table("template_media")
    op.drop_table("telegram_users")
    op.drop_index("ix_jobs_slot_created", table_name="jobs")
    op.drop_index("ix_jobs_pending_slot", table_name="jobs")
    op.drop_index("ix_jobs_pending_provider", table_name="jobs")
    op.drop_index(
        "ix_jobs_live_results",
        table_name="jobs",
        postgresql_where=sa.text("result_path IS NOT NULL AND cleaned_at IS NULL"),
    )
    op.drop_index(
        "ix_jobs_idempotency",
        table_name="jobs",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index("ix_jobs_dedupe", table_name="jobs")
    op.drop_index("ix_jobs_created_at", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_telegram_updates_received", table_name="telegram_updates")
    op.drop_table("telegram_updates")
    op.drop_index("ix_telegram_pending_user", table_name="telegram_pending_photos")
    op.drop_table("telegram_pending_photos")
    op.drop_table("slots")
    op.drop_table("settings")
    op.drop_index("ix_rate_counters_window", table_name="rate_counters")
    op.drop_table("rate_counters")
    op.drop_index("ix_login_attempts_username", table_name="login_attempts")
    op.drop_index("ix_login_attempts_ip", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_table("admins")
