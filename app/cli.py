"""The ``photochanger`` command: serve, database, admins, cleanup, backups, Telegram webhook."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session
from telebot import TeleBot

from app.config import Config
from app.db import standalone_session, upgrade_database


@click.group()
def main() -> None:
    """PhotoChanger server administration."""


@contextmanager
def command_database(config: Config) -> Iterator[str]:
    """The database URL for one command: DATABASE_URL, else the embedded database beside
    MEDIA_ROOT that ``serve`` runs (attached to while it runs, else started for the command)."""
    from app.ops.embedded_db import configured_database

    with configured_database(config) as configured:
        assert configured.database_url
        yield configured.database_url


@contextmanager
def command_session(config: Config) -> Iterator[Session]:
    with command_database(config) as url, standalone_session(url) as session:
        yield session


@main.command()
def serve() -> None:
    """Migrate, create the first admin and ingest password, and serve with gunicorn.

    Without DATABASE_URL an embedded PostgreSQL is started beside MEDIA_ROOT.
    """
    from app.auth.service import ensure_first_admin
    from app.i18n import LANGUAGES
    from app.ops.logs import configure_logging
    from app.ops.serve import (
        announce,
        announce_first_start,
        effective_config,
        exec_gunicorn,
        metrics_dir_env,
        run_gunicorn,
    )
    from app.ops.stored_secrets import log_unreadable_secrets
    from app.resources import MissingResources, check_resources
    from app.settings.service import ensure_ingest_password

    try:
        check_resources(LANGUAGES)
    except MissingResources as error:
        raise click.ClickException(str(error)) from error
    config = Config()
    configure_logging(config.log_level, config.log_format)
    overrides = metrics_dir_env(os.environ)
    if not config.secret_key:  # the workers get the one generated into the local state folder
        config = effective_config(config, generate=True)
        assert config.secret_key
        overrides["SECRET_KEY"] = config.secret_key
    embedded = not config.database_url
    if embedded:
        announce("serve.embedded_database", folder=str(config.local_state_dir / "pgdata"))
    with command_database(config) as url:
        upgrade_database(url)
        overrides["DATABASE_URL"] = url
        with standalone_session(url) as session:
            admin_password = ensure_first_admin(
                session, config.admin_username, config.admin_password
            )
            ingest_password = ensure_ingest_password(session, config)
            log_unreadable_secrets(session, config)
        announce_first_start(config.admin_username, admin_password, ingest_password)
        announce("serve.starting", url=f"http://{config.host}:{config.port}")
        sys.stdout.flush()
        if not embedded:
            exec_gunicorn(config, overrides)
        code = run_gunicorn(config, overrides)
    announce("serve.embedded_database_stopped")
    sys.exit(code)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    with command_database(Config()) as url:
        upgrade_database(url)
    click.echo("Database is up to date.")


@main.group()
def admin() -> None:
    """Admin accounts."""


@admin.command("create")
@click.option("--username", required=True)
@click.password_option()
def admin_create(username: str, password: str) -> None:
    from app.auth.service import AdminExists, create_admin

    with command_session(Config()) as session:
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

    with command_session(Config()) as session:
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
    from app.ops.embedded_db import configured_database

    with configured_database(Config()) as config:
        code = run_cleanup_command(config, dry_run=dry_run)
    sys.exit(code)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
def backup(directory: Path) -> None:
    """Write the database and the live media, consistent with each other, to DIRECTORY (a new
    or empty folder), with a manifest of checksums."""
    from app.ops.backup import backup_command

    sys.exit(backup_command(Config(), directory))


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--accept-other-secret-key",
    is_flag=True,
    help="Restore although SECRET_KEY differs from the backed-up install's.",
)
def restore(directory: Path, accept_other_secret_key: bool) -> None:
    """Restore the backup in DIRECTORY into an empty database and an empty MEDIA_ROOT, then
    upgrade the schema."""
    from app.ops.backup_restore import restore_command

    sys.exit(restore_command(Config(), directory, accept_other_secret_key))


@main.group()
def telegram() -> None:
    """The Telegram bot's webhook (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE)."""


@telegram.command("set-webhook")
@click.option("--url", required=True, help="The public https:// address of /telegram/webhook.")
@click.option("--drop-pending", is_flag=True, help="Drop the updates Telegram still holds.")
def telegram_set_webhook(url: str, drop_pending: bool) -> None:
    """Point Telegram at URL with the webhook secret and register the command menus.

    The secret is TELEGRAM_WEBHOOK_SECRET, else one generated once and stored in the database.
    """
    from app.bot.admin import ensure_secret, set_webhook
    from app.bot.client import WEBHOOK_UPDATES

    config = Config()
    if config.telegram_webhook_secret:
        secret, origin = config.telegram_webhook_secret, "TELEGRAM_WEBHOOK_SECRET"
    else:
        with command_session(config) as session:
            secret, origin = ensure_secret(session, config, "cli"), "stored in the database"
    with telegram_bot(config) as bot:
        set_webhook(bot, url, secret, drop_pending=drop_pending)
    click.echo(f"Webhook set: {url}")
    click.echo(f"Secret token: {origin}")
    click.echo(f"Updates: {', '.join(WEBHOOK_UPDATES)}")
    if drop_pending:
        click.echo("Pending updates dropped.")


@telegram.command("delete-webhook")
@click.option("--drop-pending", is_flag=True, help="Drop the updates Telegram still holds.")
def telegram_delete_webhook(drop_pending: bool) -> None:
    """Stop Telegram from delivering updates here."""
    from app.bot.admin import delete_webhook

    with telegram_bot(Config()) as bot:
        delete_webhook(bot, drop_pending=drop_pending)
    click.echo("Webhook deleted.")


@telegram.command("info")
def telegram_info() -> None:
    """Who the bot is and what Telegram reports about its webhook."""
    from app.bot.admin import bot_user, webhook_info

    with telegram_bot(Config()) as bot:
        me, hook = bot_user(bot), webhook_info(bot)
    last_error = "none"
    if hook.last_error_message:
        when = f" at {hook.last_error_date:%Y-%m-%d %H:%M:%S} UTC" if hook.last_error_date else ""
        last_error = f"{hook.last_error_message}{when}"
    for label, value in (
        ("Bot", f"@{me.username} (id {me.id}, {me.first_name})"),
        ("Webhook", hook.url or "not set"),
        ("Pending updates", hook.pending_update_count),
        ("Last error", last_error),
        ("Allowed updates", ", ".join(hook.allowed_updates or []) or "Telegram's default"),
        ("Max connections", hook.max_connections or "-"),
    ):
        click.echo(f"{label + ':':<17}{value}")


@contextmanager
def telegram_bot(config: Config) -> Iterator[TeleBot]:
    """The bot, its calls bounded by a few seconds each; Telegram's refusals become a one-line
    error (never quoting the token)."""
    import requests
    from flask import Flask

    from app import i18n
    from app.bot.admin import ADMIN_CALL_SECONDS
    from app.bot.client import TelegramError, connected
    from app.deadline import Deadline
    from app.ops.logs import configure_logging

    if not config.telegram_bot_token:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set.")
    configure_logging("WARNING")  # the command's output is its report; only problems are logged
    babel = Flask("app")  # translations for the command menus
    i18n.init_app(babel)
    try:
        with (
            babel.app_context(),
            requests.Session() as http,
            connected(config, http, Deadline.after(ADMIN_CALL_SECONDS)) as bot,
        ):
            yield bot
    except TelegramError as error:
        detail = error.description or str(error.failure)
        code = f" (error {error.error_code})" if error.error_code else ""
        raise click.ClickException(
            f"Telegram at {config.telegram_api_base}: {detail}{code}"
        ) from None


@main.group()
def secrets() -> None:
    """Stored provider keys and booth passwords across a SECRET_KEY rotation
    (SECRET_KEY_FALLBACKS)."""


@secrets.command("status")
def secrets_status() -> None:
    """Which key each stored secret needs; exit status 1 when one is unreadable."""
    from app.ops.logs import configure_logging
    from app.ops.serve import effective_config
    from app.ops.stored_secrets import inspect_secrets

    configure_logging("WARNING")  # the command's output is its report
    config = effective_config(Config())
    with command_session(config) as session:
        stored = inspect_secrets(session, config)
    click.echo(f"Keys: SECRET_KEY and {len(config.secret_keys) - 1} in SECRET_KEY_FALLBACKS")
    for name, state in {
        **{f"provider key {p}": s for p, s in stored.provider_keys.items()},
        **stored.booth_passwords,
    }.items():
        click.echo(f"{name + ':':<32}{state}")
    _report_secrets(stored.unreadable, stored.needs_fallback, config)


@secrets.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt the stored provider keys under SECRET_KEY, then say whether
    SECRET_KEY_FALLBACKS can be removed."""
    from app.ops.logs import configure_logging
    from app.ops.serve import effective_config
    from app.ops.stored_secrets import rotate

    configure_logging("WARNING")  # the command's output is its report
    config = effective_config(Config())
    with command_session(config) as session:
        rotation, after = rotate(session, config)
    click.echo(
        f"Provider keys re-encrypted under SECRET_KEY: {len(rotation.rotated)}"
        f"{_names(rotation.rotated)}; already under it: {len(rotation.current)}; "
        f"unreadable: {len(rotation.unreadable)}{_names(rotation.unreadable)}"
    )
    _report_secrets(after.unreadable, after.needs_fallback, config)


def _names(names: list[str]) -> str:
    return f" ({', '.join(names)})" if names else ""


def _report_secrets(unreadable: list[str], needs_fallback: list[str], config: Config) -> None:
    rotating = len(config.secret_keys) > 1
    if rotating and needs_fallback:
        click.echo(
            f"Still under an earlier key: {', '.join(needs_fallback)}. A booth password moves to "
            "SECRET_KEY at its booth's next accepted photo or when it is set again; keep "
            "SECRET_KEY_FALLBACKS until then."
        )
    elif rotating:
        click.echo("Nothing needs SECRET_KEY_FALLBACKS any more: it can be removed.")
    if unreadable:
        raise click.ClickException(
            f"Unreadable under SECRET_KEY and SECRET_KEY_FALLBACKS: {', '.join(unreadable)}. "
            "Put the key they were stored under in SECRET_KEY_FALLBACKS, or enter them again."
        )
