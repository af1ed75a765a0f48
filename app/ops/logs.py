"""Structured JSON logs: one event per line, with the request id bound to every line of a request.

Never log passwords, keys, tokens or image bytes: events carry ids, sizes and timings only.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

import structlog
from flask import Flask, Response, g, request

from app.deadline import request_elapsed_ms

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def configure_logging(level: str) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper(), force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def init_app(app: Flask) -> None:
    log = structlog.get_logger("http")

    @app.before_request
    def bind_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        log.info(
            "http.request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=request_elapsed_ms(),
        )
        return response

    @app.teardown_request
    def unbind(_exc: BaseException | None) -> None:
        structlog.contextvars.clear_contextvars()
