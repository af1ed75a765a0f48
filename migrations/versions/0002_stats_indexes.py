"""stats rollups and indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The stats must answer in 150 ms with a million job rows; reading the rows themselves takes
0.5-1 s per aggregate on two cores. So statement-level triggers keep hourly rollups of the jobs
(counts by slot, provider and outcome; a log-scale histogram of successful durations) and the
bytes of live media per slot and kind, in the same transaction as the change. The stats read
those for whole hours and the job rows only for the partial hours at the window's edges.
Partial indexes on failed jobs serve "last failures" and each slot's last error reason.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAILED = "status IN ('failed', 'timeout', 'interrupted')"

# One row per job and sign; shared by the backfill and the triggers. The histogram bucket k holds
# durations in [1.1^k, 1.1^(k+1)) ms (app/stats/rollups.py DURATION_RATIO).
JOB_KEYS = """
    date_bin('1 hour', created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour,
    slot_id, provider, status,
    coalesce(status = 'failed' AND failure_reason LIKE 'provider\\_%', false) AS provider_error,
    CASE WHEN status = 'done' AND duration_ms IS NOT NULL
         THEN floor(ln(greatest(duration_ms, 1)) / ln(1.1))::smallint END AS bucket,
    CASE WHEN status <> 'pending' THEN finished_at END AS finished_at"""

APPLY_JOB_CHANGES = """
    WITH changed AS ({changes}),
    counted AS (
        INSERT INTO job_stats_hourly AS t
            (hour, slot_id, provider, status, provider_error, jobs, last_finished_at)
        SELECT hour, slot_id, provider, status, provider_error, sum(delta),
               max(finished_at) FILTER (WHERE delta > 0)
        FROM changed
        GROUP BY hour, slot_id, provider, status, provider_error
        HAVING sum(delta) <> 0
        ORDER BY hour, slot_id, provider, status, provider_error
        ON CONFLICT (hour, slot_id, provider, status, provider_error) DO UPDATE
        SET jobs = t.jobs + excluded.jobs,
            last_finished_at = greatest(t.last_finished_at, excluded.last_finished_at)
    )
    INSERT INTO job_durations_hourly AS t (hour, slot_id, provider, bucket, jobs)
    SELECT hour, slot_id, provider, bucket, sum(delta)
    FROM changed
    WHERE bucket IS NOT NULL
    GROUP BY hour, slot_id, provider, bucket
    HAVING sum(delta) <> 0
    ORDER BY hour, slot_id, provider, bucket
    ON CONFLICT (hour, slot_id, provider, bucket) DO UPDATE SET jobs = t.jobs + excluded.jobs"""

APPLY_MEDIA_CHANGES = """
    INSERT INTO media_usage AS t (slot_id, kind, files, bytes)
    SELECT slot_id, kind, sum(delta), sum(delta * size_bytes)
    FROM ({changes}) AS changed
    GROUP BY slot_id, kind
    HAVING sum(delta) <> 0 OR sum(delta * size_bytes) <> 0
    ORDER BY slot_id, kind
    ON CONFLICT (slot_id, kind) DO UPDATE
    SET files = t.files + excluded.files, bytes = t.bytes + excluded.bytes"""


def job_rows(table: str, delta: int) -> str:
    return f"SELECT {JOB_KEYS}, {delta} AS delta FROM {table}"  # noqa: S608 - constants


def media_rows(table: str, delta: int) -> str:
    columns = f"slot_id, kind, size_bytes, {delta} AS delta"
    return f"SELECT {columns} FROM {table} WHERE deleted_at IS NULL"  # noqa: S608 - constants


def trigger_function(name: str, apply: str, rows: Callable[[str, int], str]) -> str:
    """A PL/pgSQL function applying the statement's transition tables to a rollup."""
    branches = {
        "INSERT": rows("new_rows", 1),
        "UPDATE": f"{rows('old_rows', -1)} UNION ALL {rows('new_rows', 1)}",
        "DELETE": rows("old_rows", -1),
    }
    body = "\n".join(
        f"    {'IF' if index == 0 else 'ELSIF'} TG_OP = '{operation}' THEN"
        f"{apply.format(changes=changes)};"
        for index, (operation, changes) in enumerate(branches.items())
    )
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{body}
    END IF;
    RETURN NULL;
END
$$"""


def create_triggers(table: str, function: str) -> None:
    for operation, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER {table}_stats_{operation.lower()} AFTER {operation} ON {table} "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def upgrade() -> None:
    op.create_table(
        "job_stats_hourly",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_error", sa.Boolean(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("hour", "slot_id", "provider", "status", "provider_error"),
    )
    op.create_table(
        "job_durations_hourly",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "slot_id", "provider", "bucket"),
    )
    op.create_table(
        "media_usage",
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot_id", "kind"),
    )
    op.create_index(
        "ix_jobs_failed_created",
        "jobs",
        ["created_at"],
        postgresql_where=sa.text(FAILED),
    )
    op.create_index(
        "ix_jobs_failed_slot_created",
        "jobs",
        ["slot_id", "created_at"],
        postgresql_where=sa.text(FAILED),
    )
    op.execute(trigger_function("job_stats_apply", APPLY_JOB_CHANGES, job_rows))
    op.execute(trigger_function("media_usage_apply", APPLY_MEDIA_CHANGES, media_rows))
    op.execute("LOCK TABLE jobs, media_objects IN SHARE ROW EXCLUSIVE MODE")
    op.execute(APPLY_JOB_CHANGES.format(changes=job_rows("jobs", 1)))
    op.execute(APPLY_MEDIA_CHANGES.format(changes=media_rows("media_objects", 1)))
    create_triggers("jobs", "job_stats_apply")
    create_triggers("media_objects", "media_usage_apply")


def downgrade() -> None:
    for table in ("jobs", "media_objects"):
        for operation in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_stats_{operation} ON {table}")
    op.execute("DROP FUNCTION job_stats_apply()")
    op.execute("DROP FUNCTION media_usage_apply()")
    op.drop_index("ix_jobs_failed_slot_created", table_name="jobs")
    op.drop_index("ix_jobs_failed_created", table_name="jobs")
    op.drop_table("media_usage")
    op.drop_table("job_durations_hourly")
    op.drop_table("job_stats_hourly")
