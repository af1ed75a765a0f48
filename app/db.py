"""Database engine, sessions and migrations.

One engine per app; a session per request (closed on teardown). Service functions take the session
as an argument and commit where their unit of work ends, so no connection is held while a
provider is working.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.deadline import Deadline
from app.resources import MIGRATIONS_DIR

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
"""PostgreSQL unreachable, restarting, or every pooled connection busy: worth a retry soon."""
RETRY_POLL_SECONDS = 0.25
T = TypeVar("T")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: sa.DateTime(timezone=True),
        dict[str, Any]: sa.dialects.postgresql.JSONB,
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 with them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, pool_size: int = 10) -> sa.Engine:
    """An engine whose pool hands out no connection PostgreSQL has closed (see
    ``drop_closed_connection``) instead of pinging the server at every checkout: a request checks
    a connection out several times, and each ping is a round trip (~50 µs of this process's CPU
    and PostgreSQL's work on top)."""
    engine = sa.create_engine(
        normalize_url(url),
        pool_size=pool_size,
        max_overflow=20,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )
    sa.event.listen(engine, "checkout", drop_closed_connection)
    return engine


def drop_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed, so the pool opens a new one.

    An idle connection has nothing to read until the server ends it: a restarting or stopping
    PostgreSQL sends its termination notice and closes the socket. So a socket with anything to
    read (or a broken one) is dropped, found by a poll of the socket without a round trip. A
    connection lost without a word (a vanished host) fails its next statement instead; SQLAlchemy
    then invalidates every connection of the pool made before the failure.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection is closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise DisconnectionError("PostgreSQL ended the connection")


def retry_while_unavailable(session: Session, write: Callable[[], T], until: Deadline) -> T:
    """Run ``write`` (one unit of work ending in its commit) and, while PostgreSQL is unavailable,
    roll back and run it again until ``until`` expires; then the last error is raised.

    For the outcome of work already done (a stored result, a failure): losing it to a database
    restart would leave the job pending and its result unanswered.
    """
    while True:
        try:
            return write()
        except DATABASE_UNAVAILABLE:
            session.rollback()
            if not until.fits(RETRY_POLL_SECONDS):
                raise
            time.sleep(RETRY_POLL_SECONDS)


@contextmanager
def standalone_session(url: str) -> Iterator[Session]:
    """A session on an engine of its own (one connection), disposed after: for commands and
    tools that work on a database outside the app."""
    engine = make_engine(url, pool_size=1)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def init_app(app: Flask, url: str) -> None:
    engine = make_engine(url, pool_size=max(5, app.config["DB_POOL_SIZE"]))
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> sa.Engine:
    result: sa.Engine = current_app.extensions["db_engine"]
    return result


def session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    db_session: Session = g.db_session
    return db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def upgrade_database(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config
