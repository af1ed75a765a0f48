"""Logs: one event per line, JSON by default (``LOG_FORMAT=console`` for people reading a
terminal), with the request id bound to every line of a request.

The app's structlog events and every stdlib logger's records (gunicorn's own lines, alembic,
warnings…) go through the same renderer, so a run prints nothing else. Never log passwords, keys,
tokens or image bytes: events carry ids, sizes and timings only.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import structlog
from flask import Flask, Response, g, request
from structlog.typing import Processor

LogFormat = Literal["json", "console"]

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
REQUEST_ID_ENVIRON = "photochanger.request_id"
"""Where the request id waits in the WSGI environ for the server's one event per request."""
SECRET_PATH = re.compile(r"^(/public/provider-media/)[^/]+")
"""Paths that carry a capability (a signed provider link): logged without it."""
MAX_LOGGED_PATH = 300


def renderer(log_format: LogFormat) -> Processor:
    if log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer()


def stdlib_formatter(log_format: LogFormat) -> logging.Formatter:
    """Renders stdlib log records (gunicorn, libraries) as the app's own events."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer(log_format),
        ],
    )


def configure_logging(level: str, log_format: LogFormat = "json") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(stdlib_formatter(log_format))
    logging.basicConfig(handlers=[handler], level=level.upper(), force=True)
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer(log_format),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def operator_logger(name: str) -> Any:
    """A logger whose events show at every LOG_LEVEL: for the few lines an operator must see
    (where the server listens, generated first-start passwords)."""
    unfiltered = structlog.make_filtering_bound_logger(logging.NOTSET)
    return structlog.wrap_logger(None, wrapper_class=unfiltered).bind(logger=name)


def log_request(environ: Mapping[str, Any], status: int | None, sent: int, seconds: float) -> None:
    """The one event per request, written by the server once the answer is sent: method, path
    (never its query string), status, body bytes, duration and the client's address (as the
    trusted-proxy rules decided it). Cookies and headers are never logged."""
    path = SECRET_PATH.sub(r"\1…", str(environ.get("PATH_INFO", "")))[:MAX_LOGGED_PATH]
    structlog.get_logger("http").info(
        "http.request",
        request_id=environ.get(REQUEST_ID_ENVIRON),
        method=environ.get("REQUEST_METHOD"),
        path=path,
        status=status,
        bytes=sent,
        duration_ms=round(seconds * 1000, 1),
        client_ip=environ.get("REMOTE_ADDR"),
    )


def init_app(app: Flask) -> None:
    @app.before_request
    def bind_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        request.environ[REQUEST_ID_ENVIRON] = g.request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def unbind(_exc: BaseException | None) -> None:
        structlog.contextvars.clear_contextvars()
