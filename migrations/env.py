from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from app.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=sa.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
