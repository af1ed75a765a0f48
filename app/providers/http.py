"""The one way drivers call out: timeouts from the time left, classified failures, quiet logs.

Every outbound request gets a connect timeout and a read timeout no longer than what is left of
the job's deadline. Transport failures become ``TransientFailure`` (retried by ``with_retries``
while the deadline allows) or ``ProviderTimeout``. Logged are the provider, method, host and path,
status and duration — never headers, keys, query strings or bodies.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog

from app.providers.base import Deadline, ProviderTimeout, ProviderUnavailable

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
T = TypeVar("T")


class TransientFailure(Exception):
    """Worth another try if time allows: 429/5xx, connection drops, an empty model answer."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def send(
    http: requests.Session,
    method: str,
    url: str,
    *,
    provider: str,
    deadline: Deadline,
    **kwargs: Any,
) -> requests.Response:
    remaining = deadline.remaining()
    if remaining <= 0.05:
        raise ProviderTimeout(f"No time left to call {provider}.")
    timeout = (min(CONNECT_TIMEOUT_SECONDS, remaining), remaining)
    parts = urlsplit(url)
    started = time.monotonic()
    try:
        response = http.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as error:
        if deadline.remaining() <= 0.05:
            raise ProviderTimeout(f"{provider} did not answer before the deadline.") from error
        raise TransientFailure(f"{provider} timed out while connecting.") from error
    except requests.ConnectionError as error:
        raise TransientFailure(f"Could not reach {provider} ({parts.hostname}).") from error
    except requests.RequestException as error:
        raise TransientFailure(
            f"{provider}'s answer broke off ({type(error).__name__})."
        ) from error
    finally:
        log.info(
            "provider.http",
            provider=provider,
            method=method,
            host=parts.hostname,
            path=parts.path,
            duration_ms=round((time.monotonic() - started) * 1000),
        )
    log.info("provider.http.status", provider=provider, status=response.status_code)
    return response


def with_retries(call: Callable[[], T], *, provider: str, deadline: Deadline) -> T:
    """Run ``call`` until it succeeds, retrying ``TransientFailure`` with jittered exponential
    backoff (or the server's own wait) only while the wait still fits the deadline."""
    attempt = 0
    while True:
        try:
            return call()
        except TransientFailure as failure:
            attempt += 1
            wait = failure.retry_after
            if wait is None:
                wait = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
                wait *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
            if not deadline.fits(wait + 0.5):
                raise ProviderUnavailable(
                    f"{failure.message} No retry fits the time left ({attempt} attempts)."
                ) from failure
            log.info("provider.retry", provider=provider, attempt=attempt, wait_s=round(wait, 2))
            time.sleep(wait)


def retry_after_header(response: requests.Response) -> float | None:
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


def json_body(response: requests.Response) -> dict[str, Any] | None:
    """The response's JSON object, or None for HTML error pages and garbage."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
