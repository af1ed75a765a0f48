"""``photochanger serve``: prepare the database, then run gunicorn with gthread workers."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from app.config import Config
from app.ops.logs import operator_logger

MAX_SYNC_SECONDS = 60
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PRIVATE_METRICS_PREFIX = "photochanger-metrics-"
UPLOAD_ALLOWANCE_SECONDS = 60


def announce(event: str, **fields: object) -> None:
    """One of serve's own lines (the embedded database, where it listens), at every LOG_LEVEL."""
    operator_logger("photochanger.serve").info(event, **fields)


def announce_first_start(
    admin_username: str, admin_password: str | None, ingest_password: str | None
) -> None:
    """The passwords generated at first start, printed this once as events like every other line
    (an operator finds them with ``grep first_start``); none when the environment set them."""
    log = operator_logger("photochanger.serve")
    if admin_password:
        log.warning("first_start.admin_created", username=admin_username, password=admin_password)
    if ingest_password:
        log.warning("first_start.ingest_password_created", password=ingest_password)


def gunicorn_command(config: Config) -> list[str]:
    """Worker timeout sits above the longest T_sync plus a slow upload. 2 workers x 64 threads:
    gthread workers accept connections unevenly, so each needs room for most of a 64-request
    burst of long synchronous calls; the threads mostly wait on providers, not on the CPU."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "app.wsgi:app",
        "--config=python:app.ops.gunicorn_hooks",  # the /metrics multiprocess folder
        "--worker-class=gthread",
        f"--workers={config.web_concurrency}",
        f"--threads={config.threads}",
        f"--bind={config.host}:{config.port}",
        f"--timeout={MAX_SYNC_SECONDS + UPLOAD_ALLOWANCE_SECONDS + 30}",
        "--graceful-timeout=70",
        "--keep-alive=5",
        "--worker-connections=1000",
        # Gunicorn believes X-Forwarded-Proto only from the configured proxies (none without one);
        # app.proxy.TrustedProxies applies the same rule to the other forwarded headers.
        f"--forwarded-allow-ips={forwarded_allow_ips(config)}",
        f"--log-level={config.log_level.lower()}",
    ]


def forwarded_allow_ips(config: Config) -> str:
    if not config.proxy_hops:
        return ""
    return ",".join(str(network) for network in config.trusted_proxy_networks)


SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


def effective_config(config: Config, generate: bool = False) -> Config:
    """``config`` with the SECRET_KEY the install runs with: the configured one, else the one
    ``serve`` keeps in the local state folder (created now when ``generate``; a command that only
    reads leaves SECRET_KEY unset when there is none)."""
    if config.secret_key:
        return config
    stored = config.local_state_dir / SECRET_KEY_FILE
    if not generate and not stored.is_file():
        return config
    return config.model_copy(update={"secret_key": local_secret(config, SECRET_KEY_FILE)})


def local_secret(config: Config, name: str) -> str:
    """A secret generated once and kept in the local state folder (for installs without env)."""
    path: Path = config.local_state_dir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def metrics_dir_env(environ: Mapping[str, str]) -> dict[str, str]:
    """An empty folder for the gunicorn workers' metric files, as the environment to pass on.

    ``PROMETHEUS_MULTIPROC_DIR`` when set (its old metric files deleted), else a new private
    folder in the system's temp folder (gunicorn removes it at exit): two servers sharing a media
    volume must never share one, since worker pids repeat across containers.
    """
    configured = environ.get(MULTIPROC_ENV)
    if not configured:
        return {MULTIPROC_ENV: tempfile.mkdtemp(prefix=PRIVATE_METRICS_PREFIX)}
    folder = Path(configured)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # only prometheus_client's files, nothing else there
        stale.unlink()
    return {MULTIPROC_ENV: str(folder)}


MALLOC_SETTINGS = {
    "MALLOC_ARENA_MAX": "2",
    "MALLOC_MMAP_THRESHOLD_": str(12 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": str(24 * 2**20),
}
"""glibc malloc settings for the workers; any of them set in the environment wins.

- ``MALLOC_ARENA_MAX``: glibc gives every thread that allocates its own arena (up to 8 per core),
  and freed memory stays in each arena: a burst of 200 uploads against a 10 s provider
  (scripts/bench_load.py, 2 workers x 64 threads) peaked at 1071 MiB of RSS with the default
  arenas and at 609 MiB with 2, at no measurable cost in CPU or latency.
- The mmap and trim thresholds: a photo job allocates and frees buffers of a few MB (the decoded
  answer, its base64, the provider's JSON). glibc's adaptive thresholds settle just above those
  sizes, so a worker that only saw 2048-px photos gave the memory back to the kernel after every
  request and faulted it in again on the next: 4 600 page faults and 15 ms of kernel CPU per
  request (50–54 ms in all; with these, ~100 faults, 5 ms of kernel CPU, 42–46 ms in all).
  Buffers under 12 MiB now stay in the heap and up to 24 MiB of free heap is kept; larger ones
  (a 24 MP photo's decode) are mapped and returned at once. Higher values cost memory: 16 MiB
  took the worker's peak for a 20 MB upload from 1.8-2.0 to 2.2 times the upload
  (scripts/bench_ingest.py --only memory).
"""


def gunicorn_environment(
    environ: Mapping[str, str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment gunicorn runs with: ``environ`` with ``overrides``, and ``MALLOC_SETTINGS``
    unless configured."""
    return {**MALLOC_SETTINGS, **environ, **(overrides or {})}


def exec_gunicorn(config: Config, env_overrides: dict[str, str]) -> None:
    """Replace this process with gunicorn, so it receives the container's signals directly."""
    command = gunicorn_command(config)
    os.execve(command[0], command, gunicorn_environment(os.environ, env_overrides))  # noqa: S606


def run_gunicorn(config: Config, env_overrides: dict[str, str]) -> int:
    """Run gunicorn as a child, passing on stop signals, so the caller can clean up after it."""
    process = subprocess.Popen(
        gunicorn_command(config), env=gunicorn_environment(os.environ, env_overrides)
    )

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)

    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, forward)
    return process.wait()
