"""The ``photochanger`` command: serve, database, admins and cleanup."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from app.config import Config
from app.db import make_engine, upgrade_database


@click.group()
def main() -> None:
    """PhotoChanger server administration."""


@contextmanager
def database_session(url: str) -> Iterator[Session]:
    engine = make_engine(url, pool_size=1)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def require_database_url(config: Config) -> str:
    if not config.database_url:
        raise click.ClickException("DATABASE_URL is not set.")
    return config.database_url


@main.command()
def serve() -> None:
    """Migrate, create the first admin and ingest password, and serve with gunicorn.

    Without DATABASE_URL an embedded PostgreSQL is started beside MEDIA_ROOT.
    """
    from app.auth.service import ensure_first_admin
    from app.ops.serve import exec_gunicorn, local_secret, run_gunicorn
    from app.settings.service import ensure_ingest_password

    config = Config()
    overrides: dict[str, str] = {}
    embedded = None
    if not config.database_url:
        from app.ops.embedded_db import start_embedded_postgres

        embedded, url = start_embedded_postgres(config.local_state_dir / "pgdata")
        overrides["DATABASE_URL"] = url
        click.echo(f"Embedded PostgreSQL running in {config.local_state_dir / 'pgdata'}")
    if not config.secret_key:
        overrides["SECRET_KEY"] = local_secret(config, "secret_key")
    config = config.model_copy(update={k.lower(): v for k, v in overrides.items()})
    url = require_database_url(config)

    upgrade_database(url)
    with database_session(url) as session:
        admin_password = ensure_first_admin(session, config.admin_username, config.admin_password)
        ingest_password = ensure_ingest_password(session, config)
    if admin_password:
        click.echo(f"First admin created: {config.admin_username} / {admin_password}")
    if ingest_password:
        click.echo(f"Global ingest password (booth 'password' field): {ingest_password}")
    click.echo(f"Serving on http://{config.host}:{config.port}", nl=True)
    sys.stdout.flush()
    if embedded is None:
        exec_gunicorn(config, overrides)
    code = run_gunicorn(config, overrides)
    if embedded is not None:
        embedded.cleanup()
    click.echo("Embedded PostgreSQL stopped.")
    sys.exit(code)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    upgrade_database(require_database_url(Config()))
    click.echo("Database is up to date.")


@main.group()
def admin() -> None:
    """Admin accounts."""


@admin.command("create")
@click.option("--username", required=True)
@click.password_option()
def admin_create(username: str, password: str) -> None:
    from app.auth.service import AdminExists, create_admin

    with database_session(require_database_url(Config())) as session:
        try:
            create_admin(session, username, password)
        except AdminExists as error:
            raise click.ClickException(f"Admin {username!r} already exists.") from error
    click.echo(f"Admin {username!r} created.")


@admin.command("set-password")
@click.option("--username", required=True)
@click.password_option()
def admin_set_password(username: str, password: str) -> None:
    from app.auth.service import AdminNotFound, set_admin_password

    with database_session(require_database_url(Config())) as session:
        try:
            set_admin_password(session, username, password)
        except AdminNotFound as error:
            raise click.ClickException(f"There is no admin {username!r}.") from error
    click.echo(f"Password of {username!r} changed.")


@main.command()
@click.option("--dry-run", is_flag=True, help="Report what would be deleted, delete nothing.")
def cleanup(dry_run: bool) -> None:
    """Delete expired media, stale temp files and old rows (run by cron every 15 minutes)."""
    from app.ops.cleanup import run_cleanup_command

    sys.exit(run_cleanup_command(Config(), dry_run=dry_run))
