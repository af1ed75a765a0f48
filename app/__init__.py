"""PhotoChanger: a synchronous Flask app for booth ingest, the bot, the admin UI and guests."""

from __future__ import annotations

import tempfile
from typing import IO, cast

import requests
from flask import Flask, Request, current_app

from app import db, errors, i18n
from app.config import PROJECT_ROOT, Config
from app.media.storage import MediaStore
from app.ops import logs
from app.ops.connection import CloseOnRefusal

SPOOL_IN_MEMORY_BYTES = 512 * 1024


class SpoolingRequest(Request):
    """Uploads go to unnamed files on the media volume's temp folder (never whole into memory)."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        store: MediaStore = current_app.extensions["photochanger.media_store"]
        spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - werkzeug owns and closes it
            max_size=SPOOL_IN_MEMORY_BYTES, mode="w+b", dir=str(store.temp_dir)
        )
        return cast(IO[bytes], spool)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    if not config.database_url:
        raise RuntimeError("DATABASE_URL is not set (photochanger serve starts a local database).")
    if not config.secret_key:
        raise RuntimeError("SECRET_KEY is not set (photochanger serve generates one locally).")

    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    app.request_class = SpoolingRequest
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_upload_bytes + 512 * 1024,
        DB_POOL_SIZE=min(config.threads, 20),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    store = MediaStore(config.media_root)
    store.ensure_layout()
    app.extensions["photochanger.config"] = config
    app.extensions["photochanger.media_store"] = store
    app.extensions["photochanger.http"] = requests.Session()

    logs.configure_logging(config.log_level)
    logs.init_app(app)
    db.init_app(app, config.database_url)
    i18n.init_app(app)
    errors.init_app(app)

    from app.ingest.routes import bp as ingest_bp
    from app.ops.health import bp as health_bp
    from app.public.provider_media import bp as provider_media_bp
    from app.public.routes import bp as public_bp

    app.register_blueprint(ingest_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(provider_media_bp)
    app.register_blueprint(health_bp)
    app.wsgi_app = CloseOnRefusal(app.wsgi_app)  # type: ignore[method-assign]
    return app
