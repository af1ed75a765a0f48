"""The stage of the ingest benchmark: slots on the instant local provider and on a fake Gemini
that answers at once, booth-sized photos, gunicorn started as ``photochanger serve`` starts it,
and uploads by the tests' booth client."""

from __future__ import annotations

import io
import itertools
import json
import logging
import multiprocessing
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import requests
from PIL import Image, ImageChops
from sqlalchemy.orm import Session

from app.auth.passwords import hash_booth_password
from app.config import Config
from app.db import make_engine
from app.ops.serve import gunicorn_command, gunicorn_environment
from app.settings.service import save_settings
from app.slots.models import Slot

if TYPE_CHECKING:
    from tests.support.booth import BoothResponse
    from tests.support.fakes.gemini import GeminiFake


PROJECT_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = secrets.token_urlsafe(12)
SECRET_KEY = "bench-secret-key"  # noqa: S105 - the throw-away server's own
MIB = 1024 * 1024
INSTANT_SLOT = "slot-001"
SLOW_SLOT = "slot-002"
LARGE_SLOT = "slot-003"
GEMINI_SLOT = "slot-004"
GEMINI_SETTINGS = {"model": "gemini-2.5-flash-image", "prompt": "Put the guests on a sunny beach."}
ANSWER_SIDE = 1024
ANSWER_PNG_BYTES = 1.5 * 1024 * 1024
"""Gemini 2.5 Flash Image answers a 1024x1024 PNG of about this size."""
SIZE_TOLERANCE = 0.02
CONCURRENT = 64
SLOW_DELAY_SECONDS = 5
SERIALS = itertools.count(1)


def prepare_database(database_url: str, media_root: Path) -> None:
    config = Config(
        database_url=database_url, media_root=media_root, secret_key=SECRET_KEY, _env_file=None
    )
    engine = make_engine(database_url, pool_size=1)
    with Session(engine) as session:
        for slot_id, delay in ((INSTANT_SLOT, 0), (SLOW_SLOT, SLOW_DELAY_SECONDS), (LARGE_SLOT, 0)):
            slot = session.get_one(Slot, slot_id)
            slot.provider = "local"
            slot.settings = {"style": "sepia", "delay_seconds": delay}
            slot.size_limit_mb = 20
        gemini_slot = session.get_one(Slot, GEMINI_SLOT)
        gemini_slot.provider = "gemini"
        gemini_slot.settings = dict(GEMINI_SETTINGS)
        gemini_slot.size_limit_mb = 20
        session.commit()
        save_settings(
            session,
            config,
            {
                "ingest_password_hash": hash_booth_password(config.booth_password_key, PASSWORD),
                "slot_concurrency": CONCURRENT,
                "provider_concurrency": CONCURRENT,
            },
            updated_by="bench",
        )
    engine.dispose()


def noisy_jpeg(width: int, height: int, sigma: float) -> bytes:
    """A smooth gradient under colour noise: compresses like a busy camera JPEG."""
    gradient = Image.linear_gradient("L").resize((width, height))
    base = Image.merge("RGB", [gradient, gradient.transpose(Image.Transpose.ROTATE_180), gradient])
    noise = Image.merge("RGB", [Image.effect_noise((width, height), sigma) for _ in range(3)])
    out = io.BytesIO()
    ImageChops.blend(base, noise, 0.5).save(out, "JPEG", quality=95)
    return out.getvalue()


def sized_jpeg(width: int, height: int, target_bytes: float) -> bytes:
    """A ``width`` x ``height`` JPEG within 2 % of ``target_bytes``, by searching the noise."""
    low, high = (1.0, noisy_jpeg(width, height, 1.0)), (128.0, noisy_jpeg(width, height, 128.0))
    if not len(low[1]) < target_bytes < len(high[1]):
        raise RuntimeError(f"{width}x{height} cannot be made {target_bytes} bytes")
    for _ in range(12):
        (low_sigma, low_data), (high_sigma, high_data) = low, high
        share = (target_bytes - len(low_data)) / (len(high_data) - len(low_data))
        sigma = low_sigma + (high_sigma - low_sigma) * min(0.9, max(0.1, share))
        data = noisy_jpeg(width, height, sigma)
        if abs(len(data) - target_bytes) <= SIZE_TOLERANCE * target_bytes:
            return data
        if len(data) < target_bytes:
            low = (sigma, data)
        else:
            high = (sigma, data)
    raise RuntimeError(f"no {width}x{height} JPEG of {target_bytes} bytes found")


def answer_png() -> bytes:
    """A photo-like 1024x1024 PNG of about ``ANSWER_PNG_BYTES``: what Gemini sends back."""
    best = b""
    for sigma in (6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 20.0):
        with Image.open(io.BytesIO(noisy_jpeg(ANSWER_SIDE, ANSWER_SIDE, sigma))) as image:
            out = io.BytesIO()
            image.save(out, "PNG")
        best = out.getvalue()
        if len(best) >= ANSWER_PNG_BYTES:
            break
    return best


@contextmanager
def gemini_fake(answer: bytes) -> Iterator[GeminiFake]:
    """The tests' fake Gemini on 127.0.0.1, answering every call at once with ``answer``."""
    from pytest_httpserver import HTTPServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per call

    from tests.support.fakes.gemini import GeminiFake, image_reply

    server = HTTPServer("127.0.0.1", 0, threaded=True)
    server.start()
    try:
        yield GeminiFake(server).script(image_reply(answer))
    finally:
        server.stop()


def forget_calls(fake: GeminiFake) -> None:
    """Drop the recorded calls (each holds a whole request body) and fail on any problem."""
    if fake.problems:
        raise RuntimeError(f"the fake Gemini refused calls: {fake.problems[:3]}")
    fake.calls.clear()
    fake.server.clear_log()


def unique(photo: bytes) -> bytes:
    """``photo`` with a numbered JPEG comment, so no upload repeats another (no replay)."""
    comment = f"bench {next(SERIALS)}".encode()
    return photo[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + photo[2:]


def small_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 50)).save(out, "JPEG", quality=90)
    return unique(out.getvalue())


def describe(photo: bytes) -> str:
    with Image.open(io.BytesIO(photo)) as image:
        width, height = image.size
    return f"{width}x{height} {len(photo) / MIB:.2f} MiB"


@dataclass
class App:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int
    threads: int

    def ingest_url(self, slot_id: str) -> str:
        return f"{self.url}/ingest/{slot_id}"

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
        return events


@contextmanager
def serve(
    workdir: Path,
    database_url: str,
    workers: int | None = None,
    gemini: GeminiFake | None = None,
) -> Iterator[App]:
    """gunicorn as ``photochanger serve`` runs it, on a free port, logging JSON to a file;
    Gemini calls go to the ``gemini`` fake when given."""
    port = free_port()
    overrides: dict[str, Any] = {"host": "127.0.0.1", "port": port, "log_level": "INFO"}
    if workers is not None:
        overrides["web_concurrency"] = workers
    config = Config(**overrides, _env_file=None)
    env = {
        **gunicorn_environment(os.environ),
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(workdir / "media"),
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "INFO",
    }
    if gemini is not None:
        from tests.support.fakes.gemini import API_KEY

        env |= {"GEMINI_API_BASE": gemini.base_url, "GEMINI_API_KEY": API_KEY}
    log = workdir / f"gunicorn-{port}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            gunicorn_command(config), env=env, cwd=PROJECT_ROOT, stdout=log_file, stderr=log_file
        )
    app = App(f"http://127.0.0.1:{port}", process, log, config.web_concurrency, config.threads)
    try:
        from tests.support.servers import wait_healthy

        wait_healthy(app.url, process, 60, log.read_text)
        yield app
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def upload(url: str, photo: bytes) -> BoothResponse:
    from tests.support.booth import booth_post

    return booth_post(url, photo, password=PASSWORD)


def expect_ok(answer: BoothResponse) -> BoothResponse:
    if answer.status != 200:
        raise RuntimeError(f"upload answered {answer.status}: {answer.body[:300]!r}")
    return answer


WEBHOOK = "webhook"
"""A probe name: POST an empty update to the Telegram webhook."""
PROBE_INTERVAL_SECONDS = 0.1


@contextmanager
def probing(
    base_url: str, names: tuple[str, ...], webhook_secret: str = ""
) -> Iterator[dict[str, list[float]]]:
    """Calls each of ``names`` (a path to GET, or ``WEBHOOK``) in turn, each on a fresh
    connection, every 0.1 s until the block ends; the latencies in ms are in the yielded dict
    once the block has ended.

    The prober is a process of its own, as a load balancer or Docker's health check is: a thread
    of the benchmark would wait for the benchmark's own interpreter lock, held by the dozens of
    client threads reading their answers at the same moment, and report that wait as the
    server's latency (one probe in three bursts measured ~300 ms by the client thread while the
    server logged 28 ms for it)."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    receiver, sender = context.Pipe(duplex=False)
    prober = context.Process(
        target=probe_until,
        args=(ready, stop, sender, base_url, names, webhook_secret),
        daemon=True,
    )
    prober.start()
    sender.close()  # the child's copy stays: recv() sees EOF if the child dies without sending
    if not ready.wait(PROBER_START_SECONDS):
        prober.kill()
        raise RuntimeError("the prober process did not start")
    latencies: dict[str, list[float]] = {}
    try:
        yield latencies
    finally:
        stop.set()
        try:
            latencies.update(receiver.recv())
        except EOFError as error:
            raise RuntimeError("the prober process failed; see its traceback above") from error
        finally:
            prober.join()


PROBER_START_SECONDS = 30


def probe_until(
    ready: EventType,
    stop: EventType,
    results: Connection,
    base_url: str,
    names: tuple[str, ...],
    webhook_secret: str,
) -> None:
    """The prober process of ``probing``: probes from when it sets ``ready`` until ``stop`` is
    set, then sends ``{name: [ms, …]}``."""
    latencies: dict[str, list[float]] = {name: [] for name in names}
    update_ids = itertools.count(1)
    session = requests.Session()
    session.headers["Connection"] = "close"  # a fresh connection each call
    ready.set()
    while not stop.wait(PROBE_INTERVAL_SECONDS):
        for name in names:
            started = time.monotonic()
            if name == WEBHOOK:
                session.post(
                    f"{base_url}/telegram/webhook",
                    data=json.dumps({"update_id": next(update_ids)}),
                    headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": webhook_secret,
                    },
                    timeout=60,
                ).raise_for_status()
            else:
                session.get(f"{base_url}{name}", timeout=60).raise_for_status()
            latencies[name].append((time.monotonic() - started) * 1000)
    results.send(latencies)


RSS_SAMPLE_SECONDS = 0.01


@contextmanager
def sample_peak_rss(
    process: psutil.Process, with_children: bool = False
) -> Iterator[Callable[[], int]]:
    """The peak resident memory of ``process`` (summed with its children's when asked), sampled
    every 10 ms until the block ends."""

    def current() -> int:
        processes = [process, *process.children(recursive=True)] if with_children else [process]
        size = 0
        for one in processes:
            with suppress(psutil.NoSuchProcess):
                size += one.memory_info().rss
        return size

    peak = current()
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(RSS_SAMPLE_SECONDS):
            peak = max(peak, current())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield lambda: peak
    finally:
        time.sleep(5 * RSS_SAMPLE_SECONDS)
        stop.set()
        sampler.join()
