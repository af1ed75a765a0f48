"""The app served for tests: in this process on a werkzeug thread, or as ``photochanger``'s own
gunicorn command line in a child process."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.config import PROJECT_ROOT, Config


class RawServer:
    """A loopback TCP server that hands each connection to ``serve`` on its own thread; the
    base of the misbehaving HTTP peers the outbound tests talk to."""

    scheme = "http"

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"{self.scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopped = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()

    def serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting to it is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], seconds: float, output: Callable[[], str]
) -> None:
    """Poll ``url``'s ``/healthz`` until it answers 200; a process that exits first, or a server
    still not healthy after ``seconds``, fails with ``output()`` (its log) in the message."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited before it was healthy:\n{output()}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not become healthy in {seconds}s:\n{output()}")


class LiveServer:
    """The app on a threaded werkzeug server on 127.0.0.1: real HTTP, in this process."""

    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@contextmanager
def serve_app(config: Config) -> Iterator[str]:
    """An app of its own ``config`` on a live server; yields its base URL."""
    app = create_app(config)
    server = LiveServer(app)
    try:
        yield server.url
    finally:
        server.stop()
        app.extensions["db_engine"].dispose()


class GunicornServer:
    """``photochanger``'s own gunicorn command line, as serve runs it, on a free port."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 1,
        threads: int = 8,
        log_path: Path | None = None,
    ) -> None:
        from app.ops.serve import gunicorn_command, gunicorn_environment

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = Config(
            host="127.0.0.1",
            port=self.port,
            web_concurrency=workers,
            threads=threads,
            log_level="WARNING",
            _env_file=None,
        )
        self.process = subprocess.Popen(
            gunicorn_command(config),
            env=gunicorn_environment(os.environ, {"LOG_LEVEL": "WARNING", **env}),
            cwd=PROJECT_ROOT,
            stdout=log_path.open("ab") if log_path else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_healthy(self.url, self.process, 30, self._stderr_tail)
        except BaseException:
            self.stop()
            raise

    def _stderr_tail(self) -> str:
        """The end of gunicorn's stderr once it has exited (reading earlier would block)."""
        if self.process.poll() is None or self.process.stderr is None:
            return "(gunicorn is still running)"
        return self.process.stderr.read().decode()[-2000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
