"""The ``photochanger`` command run as a sysadmin runs it: in a child process, from the project
root, with the environment a test chooses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import PROJECT_ROOT
from tests.support.servers import wait_healthy

PHOTOCHANGER = str(Path(sys.executable).parent / "photochanger")
"""The console script installed beside the interpreter that runs the tests."""


def photochanger(
    *args: str, env: dict[str, str], stdin: str | None = None, cwd: Path = PROJECT_ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``photochanger *args`` with exactly ``env`` and capture its text output."""
    return subprocess.run(
        [PHOTOCHANGER, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def cli(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``photochanger *args`` with ``env`` laid over this process's environment."""
    return photochanger(*args, env={**os.environ, **env}, stdin=stdin)


def quickstart_env(tmp_path: Path) -> dict[str, str]:
    """The quickstart install: no DATABASE_URL (so the embedded database beside MEDIA_ROOT),
    media in ``tmp_path/media``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTHONPATH"}}
    (tmp_path / "media").mkdir(exist_ok=True)
    return {**env, "MEDIA_ROOT": str(tmp_path / "media"), "LOG_LEVEL": "WARNING"}


def serve_env(tmp_path: Path, port: int) -> dict[str, str]:
    """``photochanger serve`` on a first start: no database URL, admin or booth password, or
    secret key given, so it makes its own; one small worker on ``port``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_PASSWORD"}}
    env.update(
        MEDIA_ROOT=str(tmp_path / "media"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        THREADS="4",
        LOG_LEVEL="WARNING",
    )
    env.pop("INGEST_PASSWORD", None)
    env.pop("SECRET_KEY", None)
    return env


@contextmanager
def serving(env: dict[str, str], output: Path, seconds: float = 90) -> Iterator[str]:
    """``photochanger serve`` with exactly ``env`` (its stdout and stderr in ``output``), healthy
    on its PORT within ``seconds``; yields its base URL, then stops it and fails unless it
    exits 0."""
    url = f"http://127.0.0.1:{env['PORT']}"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [PHOTOCHANGER, "serve"], env=env, stdout=sink, stderr=sink, cwd=PROJECT_ROOT
        )
    try:
        wait_healthy(url, process, seconds, output.read_text)
        yield url
    finally:
        status = stop(process)
    assert status == 0, f"serve exited {status}:\n{output.read_text()}"


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop a served ``photochanger`` as its service manager would (SIGTERM); its exit status."""
    process.send_signal(signal.SIGTERM)
    return process.wait(60)
