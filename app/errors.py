"""App-wide error pages: JSON for API and file routes, a localized page for people."""

from __future__ import annotations

import structlog
from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from app.db import DATABASE_UNAVAILABLE
from app.media.storage import is_storage_full

JSON_PREFIXES = ("/api/", "/public/", "/ingest/", "/healthz", "/telegram/")
DATABASE_RETRY_AFTER_SECONDS = 5
log = structlog.get_logger(__name__)


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[Response | str, int]:
        log.warning("http.csrf_refused", reason=error.description)
        message = _(
            "This form is out of date (the session changed). Reload the page and try again."
        )
        if request.headers.get("HX-Request"):
            return f'<p class="form-error" role="alert">{escape(message)}</p>', 400
        return render_template("error.html", title=_("Form expired"), message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        reason = (error.name or "error").lower().replace(" ", "_")
        if _wants_json():
            response = jsonify(status="error", failure_reason=reason, message=error.description)
            response.headers.extend(
                (name, value)
                for name, value in error.get_headers()
                if name.lower() != "content-type"  # e.g. Allow on 405, WWW-Authenticate on 401
            )
            return response, status
        title = _("Page not found") if status == 404 else error.name
        return render_template("error.html", title=title, message=error.description), status

    def database_unavailable(error: Exception) -> tuple[Response | str, int]:
        log.warning("http.database_unavailable", error=type(error.__cause__ or error).__name__)
        message = _("The database is unavailable right now; try again in a few seconds.")
        if _wants_json():
            response = jsonify(
                status="error", failure_reason="database_unavailable", message=message
            )
            response.headers["Connection"] = "close"  # the upload may be left unread
        else:
            response = Response(
                render_template("error.html", title=_("Service unavailable"), message=message)
            )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        response.headers["Cache-Control"] = "no-store"
        return response, 503

    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, database_unavailable)

    @app.errorhandler(OSError)
    def os_error(error: OSError) -> tuple[Response | str, int]:
        """A full media volume (e.g. while an upload is spooled) is 507; other OS errors are
        unexpected."""
        if not is_storage_full(error):
            return unexpected_error(error)
        log.error("http.storage_full", error=str(error))
        message = _("The media volume is full; nothing was saved. Try again once space is freed.")
        if _wants_json():
            response = jsonify(status="error", failure_reason="storage_full", message=message)
            response.headers["Connection"] = "close"  # the upload may be left unread
        else:
            response = Response(
                render_template("error.html", title=_("Storage full"), message=message)
            )
        response.headers["Cache-Control"] = "no-store"
        return response, 507

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int]:
        log.exception("http.unhandled_error")
        if _wants_json():
            return jsonify(
                status="error",
                failure_reason="internal_error",
                message=_("Something went wrong on the server; the error was logged."),
            ), 500
        return render_template(
            "error.html", title=_("Server error"), message=InternalServerError.description
        ), 500
