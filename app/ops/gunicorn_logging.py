"""Gunicorn's own log lines as the app's events (``logger_class`` of ``app.ops.gunicorn_hooks``).

Gunicorn's lines (boot, workers, errors) are rendered like the app's (JSON unless
``LOG_FORMAT=console``), and its access hook writes the one ``http.request`` event per request:
the server knows the bytes really sent and the whole duration, the app only its own part.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from app.config import Config
from app.ops.logs import log_request, stdlib_formatter


class StructuredLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = stdlib_formatter(Config().log_format)
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        log_request(environ, resp.status_code, resp.sent, request_time.total_seconds())
