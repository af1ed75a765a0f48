"""A booth client speaking HTTP/1.1 on a raw socket the way DSLR Remote Pro 3.30.2 does.

The request head goes first with ``Expect: 100-continue``; the client waits a while for
``100 Continue``, then sends the multipart body with the booth's text fields and the photo
(the fields of a captured DSLR Remote Pro upload). ``requests`` cannot do this: it
never sends ``Expect`` and always sends the body at once.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

BOUNDARY = "------------090306000104030805010400"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
FILE_FIELD = "fileToUpload"
FILE_NAME = "IMG_0003.JPG"
FILE_TYPE = "image/jpeg"
BOOTH_FIELDS: dict[str, str] = {
    "time": "1758217512",
    "user_id": "Acer",
    "id": "CY04N068111304S2L_00000001.",
    "profile": "C:\\Users\\Acer\\Documents\\PhotoboothImages\\setup_Serg.xml",
    "status": "C:\\Users\\Acer\\Documents\\PhotoboothImages\\screenSerg\\preview.jpg",
    "hash": "7b6c683e1d3fd29c8701791c54e3c12a236f5a5b",
    "name": "DESKTOP-K968T3F",
    "model": "Windows",
    "version": "3.30.2",
}
"""The text fields of the captured request, in its order; ``password`` follows when set."""

CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024
SEND_TIMEOUT = 60.0
ContinueOutcome = Literal["continue", "final", "timeout"]


@dataclass(frozen=True)
class BoothResponse:
    status: int
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    got_continue: bool

    def json(self) -> Any:
        return json.loads(self.body)


def multipart_body(photo: bytes, password: str | None, fields: Mapping[str, str]) -> bytes:
    """The booth's form: its text fields, the password when configured, then the photo part."""
    texts = {**fields, **({"password": password} if password is not None else {})}
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in texts.items()
    ]
    file_head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{FILE_FIELD}"; filename="{FILE_NAME}"\r\n'
        f"Content-Type: {FILE_TYPE}\r\n\r\n"
    )
    return b"".join([*parts, file_head.encode(), photo, f"\r\n--{BOUNDARY}--\r\n".encode()])


class BoothConnection:
    """One HTTP/1.1 connection; the steps of a booth upload can be driven one by one."""

    def __init__(self, sock: socket.socket, host: str) -> None:
        self.sock = sock
        self.host = host
        self.buffer = bytearray()

    def send_head(self, path: str, content_length: int) -> None:
        self.sock.settimeout(SEND_TIMEOUT)
        head = (
            f"POST {path} HTTP/1.1\r\n"
            f"Host: {self.host}\r\n"
            f"Content-Type: {CONTENT_TYPE}\r\n"
            f"Content-Length: {content_length}\r\n"
            "Expect: 100-continue\r\n"
            "\r\n"
        )
        self.sock.sendall(head.encode("ascii"))

    def await_continue(self, timeout: float) -> ContinueOutcome:
        """Consume ``100 Continue`` if it arrives within ``timeout``; a final answer is kept for
        ``read_response``."""
        try:
            status, head_length = self._peek_head(time.monotonic() + timeout)
        except TimeoutError:
            return "timeout"
        if status != 100:
            return "final"
        del self.buffer[:head_length]
        return "continue"

    def send_body(self, body: bytes) -> None:
        self.sock.settimeout(SEND_TIMEOUT)
        self.sock.sendall(body)

    def read_response(self, timeout: float, got_continue: bool = False) -> BoothResponse:
        """The final response: interim ``1xx`` answers are skipped, the body is read by
        ``Content-Length`` or up to the server closing the connection."""
        deadline = time.monotonic() + timeout
        while True:
            status, head_length = self._peek_head(deadline)
            head = bytes(self.buffer[:head_length])
            del self.buffer[:head_length]
            if status == 100:
                got_continue = True
            if status >= 200:
                break
        headers = parse_headers(head)
        if "chunked" in headers.get("transfer-encoding", ""):
            raise NotImplementedError("chunked responses are not read by the booth client")
        if "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]), deadline)
        else:
            body = self._read_to_close(deadline)
        return BoothResponse(status, headers, body, got_continue)

    def closed_by_server(self, timeout: float) -> bool:
        """Whether the server closes the connection within ``timeout`` (sending nothing more)."""
        try:
            return self._receive(time.monotonic() + timeout) == b""
        except TimeoutError:
            return False

    def _peek_head(self, deadline: float) -> tuple[int, int]:
        while (end := self.buffer.find(HEAD_END)) < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                raise ValueError("response head too long")
            chunk = self._receive(deadline)
            if not chunk:
                raise ConnectionError("connection closed before a response head")
            self.buffer += chunk
        status_line = bytes(self.buffer[: self.buffer.find(CRLF)])
        return int(status_line.split()[1]), end + len(HEAD_END)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        while len(self.buffer) < size:
            chunk = self._receive(deadline)
            if not chunk:
                raise ConnectionError(f"connection closed after {len(self.buffer)}/{size} bytes")
            self.buffer += chunk
        body = bytes(self.buffer[:size])
        del self.buffer[:size]
        return body

    def _read_to_close(self, deadline: float) -> bytes:
        while chunk := self._receive(deadline):
            self.buffer += chunk
        body = bytes(self.buffer)
        self.buffer.clear()
        return body

    def _receive(self, deadline: float) -> bytes:
        self.sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            return self.sock.recv(256 * 1024)
        except ConnectionResetError:
            return b""


def parse_headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = (line.split(":", 1) for line in lines if ":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}


@contextmanager
def connect(url: str, timeout: float = 10) -> Iterator[tuple[BoothConnection, str]]:
    """A connection to ``url``'s server and the request target (path and query) to post to."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        yield BoothConnection(sock, parts.netloc), target


def booth_post(
    url: str,
    photo: bytes,
    *,
    password: str | None,
    fields: Mapping[str, str] = BOOTH_FIELDS,
    continue_timeout: float = 3.0,
    timeout: float = 70.0,
) -> BoothResponse:
    """One upload as the booth does it: head, wait for ``100 Continue`` (or send the body anyway
    after ``continue_timeout``), body, answer. No body is sent if a final answer comes first."""
    body = multipart_body(photo, password, fields)
    with connect(url) as (connection, target):
        connection.send_head(target, len(body))
        outcome = connection.await_continue(continue_timeout)
        if outcome != "final":
            connection.send_body(body)
        return connection.read_response(timeout, got_continue=outcome == "continue")
