"""PhotoChanger: a synchronous Flask app for booth ingest, the bot, the admin UI and guests."""

from __future__ import annotations

import tempfile
import threading
from typing import IO, cast

from flask import Flask, current_app
from htmx_flask import Htmx
from htmx_flask.requests import HtmxAwareRequest

from app import db, errors, i18n, outbound
from app.auth.guard import csrf
from app.auth.passwords import BOOTH_CHECKS_AT_ONCE
from app.config import Config
from app.deadline import start_request_clock
from app.headers import CookielessPublicResponses, security_headers
from app.ingest import capacity
from app.ingest.labels import JOB_SOURCE_LABELS, JOB_STATUS_LABELS
from app.media.storage import MediaStore
from app.ops import logs
from app.ops import metrics as ops_metrics
from app.ops.connection import CloseOnRefusal
from app.proxy import TrustedProxies
from app.resources import STATIC_DIR, TEMPLATES_DIR, check_resources

SPOOL_IN_MEMORY_BYTES = 512 * 1024


class SpoolingRequest(HtmxAwareRequest):  # type: ignore[misc]
    """Uploads go to unnamed files on the media volume's temp folder (never whole into memory);
    ``request.htmx`` tells an htmx partial request from a full page load."""

    _spooled_a_file = False

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        store: MediaStore = current_app.extensions["photochanger.media_store"]
        if (total_content_length or 0) > SPOOL_IN_MEMORY_BYTES and not self._spooled_a_file:
            # the photo (the one large part of a large request) goes to a file that becomes its
            # result's source by a link; every further part is spooled as a small one is, so a
            # body of a thousand parts cannot take a thousand file descriptors
            self._spooled_a_file = True
            return store.spool_file()
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

    check_resources(i18n.LANGUAGES)

    app = Flask(__name__, template_folder=TEMPLATES_DIR, static_folder=STATIC_DIR)
    Htmx(app)
    app.request_class = SpoolingRequest
    app.session_interface = CookielessPublicResponses()
    app.config.update(
        SECRET_KEY=config.secret_key,
        SECRET_KEY_FALLBACKS=config.secret_keys[1:],
        WTF_CSRF_SECRET_KEY=config.secret_keys[::-1],  # signs with the last, checks with all
        MAX_CONTENT_LENGTH=config.max_upload_bytes + 512 * 1024,
        DB_POOL_SIZE=min(config.threads, 20),
        SESSION_COOKIE_NAME="photochanger_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.public_base_is_https,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    store = MediaStore(config.media_root)
    store.ensure_layout()
    app.extensions["photochanger.config"] = config
    app.extensions["photochanger.media_store"] = store
    app.extensions["photochanger.http"] = outbound.new_session()
    app.extensions["photochanger.password_checks"] = threading.BoundedSemaphore(
        BOOTH_CHECKS_AT_ONCE
    )
    capacity.init_app(app, config.ingest_job_places, config.image_work_per_worker)

    app.before_request(start_request_clock)  # first, so upload time counts against deadlines
    app.after_request(security_headers)
    logs.configure_logging(config.log_level, config.log_format)
    logs.init_app(app)
    db.init_app(app, config.database_url)
    i18n.init_app(app)
    app.jinja_env.globals.update(
        job_status_labels=JOB_STATUS_LABELS, job_source_labels=JOB_SOURCE_LABELS
    )
    errors.init_app(app)
    csrf.init_app(app)
    register_blueprints(app)
    ops_metrics.init_app(app, config, app.extensions["db_engine"])

    app.wsgi_app = CloseOnRefusal(app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = TrustedProxies(  # type: ignore[method-assign]
        app.wsgi_app, config.proxy_hops, config.trusted_proxy_networks
    )
    return app


def register_blueprints(app: Flask) -> None:
    from app.api import docs_bp
    from app.auth import routes as auth
    from app.bot.routes import bp as telegram_bp
    from app.ingest.routes import bp as ingest_bp
    from app.ops.health import bp as health_bp
    from app.public.gallery import bp as gallery_bp
    from app.public.provider_media import bp as provider_media_bp
    from app.public.routes import bp as public_bp
    from app.settings import api as settings_api
    from app.settings import routes as settings
    from app.slots import api as slots_api
    from app.slots import routes as slots
    from app.slots import tools as slot_tools
    from app.stats import api as stats_api
    from app.stats import routes as stats

    for blueprint in (
        ingest_bp,
        telegram_bp,
        public_bp,
        provider_media_bp,
        gallery_bp,
        health_bp,
        auth.bp,
        auth.api_bp,
        docs_bp,
        slots.bp,
        slots_api.bp,
        slot_tools.bp,
        slot_tools.api_bp,
        settings.bp,
        settings_api.bp,
        stats.bp,
        stats_api.bp,
    ):
        app.register_blueprint(blueprint)
