"""A provider endpoint on a raw socket that breaks HTTP the ways a network or proxy can.

``MisbehavingServer(behaviour)`` listens on 127.0.0.1, reads each request and then:

- ``silent``: never sends a byte (until the test ends);
- ``dripping_head``: sends the status line and headers one byte at a time;
- ``garbage``: sends bytes that are not HTTP at all, then closes;
- ``endless``: a 200 with no ``Content-Length`` and an endless body, as fast as it can be read;
- ``huge_declared``: a 200 announcing a 10 GB body, then sending some of it.

Every connection is counted in ``connections``; ``stop()`` releases what is still held open.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Literal

Behaviour = Literal["silent", "dripping_head", "garbage", "endless", "huge_declared"]
HOLD_LIMIT_SECONDS = 60.0
DRIP_SECONDS = 0.5
CHUNK = b"x" * 65536


class MisbehavingServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.connections = 0
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def stop(self) -> None:
        self._stopped.set()
        self._accepting.join(5)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                _read_request(conn)
                getattr(self, f"_{self.behaviour}")(conn)
            except OSError:
                pass  # the app hung up: that is what it should do

    def _silent(self, conn: socket.socket) -> None:
        self._stopped.wait(HOLD_LIMIT_SECONDS)

    def _dripping_head(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        for index in range(len(head)):
            if self._stopped.wait(DRIP_SECONDS):
                return
            conn.sendall(head[index : index + 1])

    def _garbage(self, conn: socket.socket) -> None:
        conn.sendall(b"\x00\xffSSH-2.0-OpenSSH_9.6\r\n" + os.urandom(512))

    def _endless(self, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        )
        while not self._stopped.is_set():
            conn.sendall(CHUNK)

    def _huge_declared(self, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000000\r\n\r\n" + CHUNK
        )
        self._stopped.wait(HOLD_LIMIT_SECONDS)


def _read_request(conn: socket.socket) -> None:
    """Read the request head and the ``Content-Length`` body after it."""
    conn.settimeout(HOLD_LIMIT_SECONDS)
    received = b""
    while b"\r\n\r\n" not in received:
        received += _receive(conn)
    head, _, body = received.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += _receive(conn)


def _receive(conn: socket.socket) -> bytes:
    chunk = conn.recv(65536)
    if not chunk:
        raise ConnectionError("the client closed before its request ended")
    return chunk
