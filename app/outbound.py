"""The one way the app calls other services over HTTP.

Every call ends by its deadline whatever the peer does: the connect timeout is at most 5 s, the
answer is read chunk by chunk with each socket read limited to the time left, and a watchdog
shuts the call's socket at the deadline, so a peer that drips its status line, headers or body a
byte at a time cannot hold a request past its deadline (a per-read timeout alone restarts with
every byte). Sessions come from ``new_session``, whose connections report their sockets to it.
An answer is read up to a size cap, so an oversized one cannot fill the memory. Failures come out
classified (``OutboundTimeout``, ``TransientFailure``, ``AnswerTooLarge``) for the caller to map
to its own errors.

Logged are the service, method, host, path, status, duration and size — never headers, query
strings or bodies; a Telegram bot token in the path (``/bot<token>/``) is masked.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from app.deadline import Deadline

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 5.0
MIN_CALL_SECONDS = 0.05
"""Less time left than this is not worth opening a connection for."""
CHUNK_BYTES = 64 * 1024
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
RETRY_MARGIN_SECONDS = 0.5
"""Time a retry must leave after its wait for the call itself."""
BOT_TOKEN_IN_PATH = re.compile(r"/bot[^/]+/")
T = TypeVar("T")


class OutboundError(Exception):
    """A call that did not produce an answer to use."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutboundTimeout(OutboundError):
    """The deadline passed before the answer was complete."""


class AnswerTooLarge(OutboundError):
    """The answer is larger than the caller's size cap; it was not read further."""


class TransientFailure(OutboundError):
    """Worth another try if time allows: connection drops, broken answers, or what a caller
    classifies as such (429/5xx, an empty model answer)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetriesExhausted(OutboundError):
    """``with_retries`` gave up: no further try fits the time left. ``last`` is the last
    failure (also the exception's ``__cause__``)."""

    def __init__(self, message: str, last: TransientFailure) -> None:
        super().__init__(message)
        self.last = last


def send(
    http: requests.Session,
    method: str,
    url: str,
    *,
    service: str,
    deadline: Deadline,
    max_bytes: int | None = None,
    **kwargs: Any,
) -> requests.Response:
    """``http.request(method, url, **kwargs)`` with its whole answer read by ``deadline``.

    The returned response's body is already read (``content``, ``json()`` work; nothing is left
    to stream). A ``timeout`` in ``kwargs`` may only shorten the deadline's timeouts.
    """
    remaining = deadline.remaining()
    if remaining <= MIN_CALL_SECONDS:
        raise OutboundTimeout(f"No time left to call {service}.")
    connect, read = _timeouts(remaining, kwargs.pop("timeout", None))
    kwargs.pop("stream", None)
    parts = urlsplit(url)
    started = time.monotonic()
    status: int | None = None
    received = 0
    outcome = "ok"
    try:
        with watchdog(deadline):
            response = http.request(method, url, timeout=(connect, read), stream=True, **kwargs)
            status = response.status_code
            try:
                body = _read_body(response, deadline, read, max_bytes, service)
            except BaseException:
                response.close()  # the connection is mid-answer: never reuse it
                raise
        received = len(body)
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()  # fully read: the connection goes back to the pool
        return response
    except OutboundError as error:
        outcome = type(error).__name__
        raise
    except requests.Timeout as error:
        outcome = "timeout"
        raise _timeout_or_transient(deadline, service, "connecting") from error
    except requests.ConnectionError as error:
        outcome = "unreachable"
        if deadline.remaining() <= MIN_CALL_SECONDS:
            raise OutboundTimeout(f"{service} did not answer before the deadline.") from error
        raise TransientFailure(f"Could not reach {service} ({parts.hostname}).") from error
    except requests.RequestException as error:
        outcome = type(error).__name__
        if deadline.remaining() <= MIN_CALL_SECONDS:
            raise OutboundTimeout(f"{service} did not answer before the deadline.") from error
        raise TransientFailure(f"{service}'s answer broke off ({type(error).__name__}).") from error
    finally:
        log.info(
            "outbound.http",
            service=service,
            method=method,
            host=parts.hostname,
            path=BOT_TOKEN_IN_PATH.sub("/bot…/", parts.path),
            status=status,
            duration_ms=round((time.monotonic() - started) * 1000),
            bytes=received,
            outcome=outcome,
        )


def new_session() -> requests.Session:
    """A ``requests`` session whose calls through ``send`` the watchdog can cut at the deadline."""
    session = requests.Session()
    adapter = _WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _CallSockets(threading.local):
    """The sockets the current thread's call uses, while ``watchdog`` watches it."""

    sockets: set[socket.socket] | None = None


_current_call = _CallSockets()


@contextmanager
def watchdog(deadline: Deadline) -> Iterator[None]:
    """Shut every socket the block's call uses when the deadline passes, so a blocked read ends."""
    sockets: set[socket.socket] = set()

    def cut() -> None:
        for sock in list(sockets):
            with suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(deadline.remaining(), cut)
    timer.daemon = True
    _current_call.sockets = sockets
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        _current_call.sockets = None


def _report_socket(sock: socket.socket | None) -> None:
    if sock is not None and _current_call.sockets is not None:
        _current_call.sockets.add(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _report_socket(self.sock)

    def getresponse(self) -> Any:
        _report_socket(self.sock)  # a kept-alive connection was connected by an earlier call
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _report_socket(self.sock)

    def getresponse(self) -> Any:
        _report_socket(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


def _timeouts(remaining: float, given: Any) -> tuple[float, float]:
    connect, read = min(CONNECT_TIMEOUT_SECONDS, remaining), remaining
    if isinstance(given, int | float):
        return min(connect, given), min(read, given)
    if isinstance(given, tuple) and len(given) == 2:
        given_connect, given_read = given
        if given_connect is not None:
            connect = min(connect, given_connect)
        if given_read is not None:
            read = min(read, given_read)
    return connect, read


def _read_body(
    response: requests.Response,
    deadline: Deadline,
    read_timeout: float,
    max_bytes: int | None,
    service: str,
) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
        raise AnswerTooLarge(f"{service} announced {declared} bytes; the cap is {max_bytes}.")
    body = bytearray()
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise OutboundTimeout(f"{service} did not finish its answer before the deadline.")
        _limit_socket_wait(response, min(remaining, read_timeout))
        try:
            chunk = response.raw.read1(CHUNK_BYTES)
        except (TimeoutError, urllib3.exceptions.ReadTimeoutError) as error:
            raise _timeout_or_transient(deadline, service, "reading its answer") from error
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as error:
            if deadline.remaining() <= 0:
                raise OutboundTimeout(
                    f"{service} did not finish its answer before the deadline."
                ) from error
            raise TransientFailure(
                f"{service}'s answer broke off ({type(error).__name__})."
            ) from error
        if not chunk:
            return bytes(body)
        body += chunk
        if max_bytes is not None and len(body) > max_bytes:
            raise AnswerTooLarge(f"{service} sent more than {max_bytes} bytes.")


def _limit_socket_wait(response: requests.Response, seconds: float) -> None:
    """Let the next socket read wait at most ``seconds`` (the read timeout counts per read)."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(max(seconds, 0.001))


def _timeout_or_transient(deadline: Deadline, service: str, step: str) -> OutboundError:
    if deadline.remaining() <= MIN_CALL_SECONDS:
        return OutboundTimeout(f"{service} did not answer before the deadline.")
    return TransientFailure(f"{service} timed out while {step}.")


def with_retries(call: Callable[[], T], *, service: str, deadline: Deadline) -> T:
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
            if not deadline.fits(wait + RETRY_MARGIN_SECONDS):
                raise RetriesExhausted(
                    f"{failure.message} No retry fits the time left ({attempt} attempts).",
                    failure,
                ) from failure
            log.info("outbound.retry", service=service, attempt=attempt, wait_s=round(wait, 2))
            time.sleep(wait)


def retry_after_header(response: requests.Response) -> float | None:
    """The wait a ``retry-after-ms`` or ``retry-after`` (seconds) header asks for."""
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
