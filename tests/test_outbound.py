"""``app.outbound.send`` against a misbehaving HTTP server on 127.0.0.1: the deadline holds
whatever the peer does, answers are read up to a cap, and the log line keeps secrets out."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from app.config import PROJECT_ROOT
from app.deadline import Deadline
from app.outbound import (
    AnswerTooLarge,
    OutboundTimeout,
    RetriesExhausted,
    TransientFailure,
    new_session,
    send,
    with_retries,
)
from tests.support.servers import RawServer

MB = 1024 * 1024


class MisbehavingServer(RawServer):
    """Raw HTTP/1.1 on a loopback socket; the request path picks the behaviour."""

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.requests: list[bytes] = []
        self.routes: dict[str, Callable[[socket.socket, str], None]] = {
            "/ok": self._ok,
            "/silent": self._silent,
            "/drip": self._drip,
            "/drip-head": self._drip_head,
            "/huge": self._huge,
            "/announced-huge": self._announced_huge,
            "/truncated": self._truncated,
        }
        super().__init__()

    def serve(self, connection: socket.socket) -> None:
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                data = connection.recv(65536)
                if not data:
                    return
                head += data
            self.requests.append(head)
            path = head.split(b" ")[1].decode().split("?")[0]
            route = "/" + path.strip("/").split("/")[-1]
            with contextlib.suppress(OSError):  # the client hung up, as several tests want
                self.routes.get(route, self._ok)(connection, route)

    def _count(self, route: str, sent: int) -> None:
        self.sent[route] = self.sent.get(route, 0) + sent

    def _ok(self, connection: socket.socket, route: str) -> None:
        body = b'{"ok": true}'
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    def _silent(self, connection: socket.socket, route: str) -> None:
        self.stopped.wait(30)

    def _drip(self, connection: socket.socket, route: str) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            if self.stopped.wait(0.5):
                return
            connection.sendall(b"x")
            self._count(route, 1)

    def _drip_head(self, connection: socket.socket, route: str) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 1000:
            if self.stopped.wait(0.5):
                return
            connection.sendall(bytes([byte]))
            self._count(route, 1)

    def _huge(self, connection: socket.socket, route: str) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(100 * MB // len(chunk)):
            connection.sendall(chunk)
            self._count(route, len(chunk))

    def _announced_huge(self, connection: socket.socket, route: str) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(100 * MB // len(chunk)):
            connection.sendall(chunk)
            self._count(route, len(chunk))

    def _truncated(self, connection: socket.socket, route: str) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")


@pytest.fixture
def server() -> Iterator[MisbehavingServer]:
    running = MisbehavingServer()
    yield running
    running.stop()


def test_small_answer_is_returned_already_read(server, http):
    response = send(http, "GET", f"{server.url}/ok", service="svc", deadline=Deadline.after(3))
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.content == b'{"ok": true}'


def test_peer_dripping_a_byte_every_half_second_ends_at_the_deadline(server, http):
    started = time.monotonic()
    with pytest.raises(OutboundTimeout):
        send(http, "GET", f"{server.url}/drip", service="svc", deadline=Deadline.after(2))
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 2.5
    assert 2 <= server.sent["/drip"] <= 5


def test_peer_dripping_its_status_line_and_headers_ends_at_the_deadline(server):
    """A per-read timeout restarts with every byte; the watchdog of ``new_session`` does not."""
    started = time.monotonic()
    with new_session() as http, pytest.raises(OutboundTimeout):
        send(http, "GET", f"{server.url}/drip-head", service="svc", deadline=Deadline.after(2))
    assert 1.9 <= time.monotonic() - started < 2.5


def test_peer_sending_nothing_ends_at_the_deadline(server, http):
    started = time.monotonic()
    with pytest.raises(OutboundTimeout):
        send(http, "GET", f"{server.url}/silent", service="svc", deadline=Deadline.after(1.5))
    assert 1.4 <= time.monotonic() - started < 2


def test_a_call_with_no_time_left_is_not_made(server, http):
    with pytest.raises(OutboundTimeout, match="No time left"):
        send(http, "GET", f"{server.url}/ok", service="svc", deadline=Deadline.after(0))
    assert server.requests == []


def test_answer_over_the_cap_stops_without_reading_it_all(server, http):
    with pytest.raises(AnswerTooLarge, match="more than 1048576 bytes"):
        send(
            http,
            "GET",
            f"{server.url}/huge",
            service="svc",
            deadline=Deadline.after(10),
            max_bytes=MB,
        )
    time.sleep(0.3)  # let the server notice the closed connection
    assert server.sent["/huge"] < 20 * MB


def test_answer_announcing_more_than_the_cap_is_refused_before_its_body(server, http):
    started = time.monotonic()
    with pytest.raises(AnswerTooLarge, match="announced 104857600 bytes"):
        send(
            http,
            "GET",
            f"{server.url}/announced-huge",
            service="svc",
            deadline=Deadline.after(10),
            max_bytes=MB,
        )
    assert time.monotonic() - started < 1
    time.sleep(0.3)
    assert server.sent.get("/announced-huge", 0) < 20 * MB


def test_answer_cut_short_is_a_transient_failure(server, http):
    with pytest.raises(TransientFailure, match="broke off"):
        send(http, "GET", f"{server.url}/truncated", service="svc", deadline=Deadline.after(3))


def test_refused_connection_is_a_transient_failure_naming_the_host(http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientFailure, match=r"Could not reach svc \(127\.0\.0\.1\)"):
        send(http, "GET", f"http://127.0.0.1:{port}/", service="svc", deadline=Deadline.after(3))


def test_a_given_timeout_only_shortens_the_deadline(server, http):
    started = time.monotonic()
    with pytest.raises(TransientFailure, match="timed out"):
        send(
            http,
            "GET",
            f"{server.url}/silent",
            service="svc",
            deadline=Deadline.after(10),
            timeout=(1, 0.5),
        )
    assert time.monotonic() - started < 1.5


def test_retries_stop_when_no_wait_fits_the_deadline():
    calls = 0

    def failing() -> None:
        nonlocal calls
        calls += 1
        raise TransientFailure("busy", retry_after=0.2)

    started = time.monotonic()
    with pytest.raises(RetriesExhausted, match="busy No retry fits") as raised:
        with_retries(failing, service="svc", deadline=Deadline.after(1.5))
    assert time.monotonic() - started < 1.5
    assert calls >= 3
    assert isinstance(raised.value.last, TransientFailure)


LOG_SCRIPT = """
import sys
import requests
from app.deadline import Deadline
from app.ops.logs import configure_logging
from app.outbound import send

configure_logging("INFO")
send(
    requests.Session(),
    "POST",
    sys.argv[1],
    service="telegram",
    deadline=Deadline.after(5),
    params={"chat_id": "p4ram-secret"},
    headers={"Authorization": "Bearer header-secret"},
    data={"text": "body-secret"},
)
"""


def test_log_line_has_no_token_query_headers_or_body(server):
    url = f"{server.url}/bot123456:AAtoken-SECRET/sendMessage?token=query-secret"
    run = subprocess.run(
        [sys.executable, "-c", LOG_SCRIPT, url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = [json.loads(line) for line in run.stdout.splitlines() if "outbound.http" in line]
    assert line["path"] == "/bot…/sendMessage"
    assert (line["service"], line["method"], line["host"]) == ("telegram", "POST", "127.0.0.1")
    assert (line["status"], line["bytes"]) == (200, 12)
    assert isinstance(line["duration_ms"], int)
    for secret in (
        "AAtoken-SECRET",
        "query-secret",
        "p4ram-secret",
        "header-secret",
        "body-secret",
    ):
        assert secret not in run.stdout + run.stderr
    assert b"AAtoken-SECRET" in server.requests[0]  # it did go on the wire
