"""Shared fixtures: a real PostgreSQL (pgserver, or TEST_DATABASE_URL), one migrated template
database cloned per test, the app served over real HTTP on 127.0.0.1, and photo factories."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_httpserver import HTTPServer
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.config import PROJECT_ROOT, Config
from app.db import make_engine, upgrade_database
from app.settings.service import save_settings
from tests.fakes.telegram import TelegramFake
from tests.support import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    INGEST_PASSWORD,
    AdminClient,
    make_image_bytes,
)

TEMPLATE_DB = f"photochanger_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
"""One per pytest-xdist worker, so workers sharing a TEST_DATABASE_URL server never collide."""
_database_numbers = itertools.count(1)


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str | None

    def url(self, dbname: str) -> str:
        auth = self.user if self.password is None else f"{self.user}:{self.password}"
        if self.host.startswith("/"):
            return f"postgresql+psycopg://{auth}@/{dbname}?host={self.host}&port={self.port}"
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{dbname}"

    def janitor(self, dbname: str, **kwargs: Any) -> DatabaseJanitor:
        return DatabaseJanitor(
            user=self.user,
            host=self.host,
            port=self.port,
            password=self.password,
            dbname=dbname,
            **kwargs,
        )


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """TEST_DATABASE_URL's server when set, else a pgserver instance for this test session."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        url = make_url(external)
        yield PgServer(
            host=url.host or url.query.get("host") or "localhost",  # type: ignore[arg-type]
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
        )
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="delete")
    url = make_url(server.get_uri())
    yield PgServer(host=str(url.query["host"]), port=5432, user="postgres", password=None)
    server.cleanup()


@pytest.fixture(scope="session")
def template_database(pg_server: PgServer) -> Iterator[str]:
    """A database migrated once per session; every test gets a fresh copy of it."""
    janitor = pg_server.janitor(TEMPLATE_DB, as_template=True)
    janitor.drop()
    janitor.init()
    upgrade_database(pg_server.url(TEMPLATE_DB))
    yield TEMPLATE_DB
    janitor.drop()


@pytest.fixture
def database_url(pg_server: PgServer, template_database: str) -> Iterator[str]:
    dbname = f"photochanger_test_{os.getpid()}_{next(_database_numbers)}"
    janitor = pg_server.janitor(dbname, template_dbname=template_database)
    janitor.init()
    yield pg_server.url(dbname)
    janitor.drop()


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    """A session of the test's own, for arranging and asserting rows."""
    engine = make_engine(database_url, pool_size=1)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


@pytest.fixture
def make_config(database_url: str, media_root: Path) -> Callable[..., Config]:
    """The test's config with ``overrides`` (provider keys and base URLs of the fakes…)."""

    def make(**overrides: Any) -> Config:
        values: dict[str, Any] = {
            "database_url": database_url,
            "media_root": media_root,
            "secret_key": "test-secret-key",
            "log_level": "WARNING",
            "threads": 8,
        }
        return Config(_env_file=None, **{**values, **overrides})

    return make


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config()


@pytest.fixture
def app(config: Config, db_session: Session) -> Iterator[Flask]:
    from app.auth.passwords import hash_password

    save_settings(
        db_session, config, {"ingest_password_hash": hash_password(INGEST_PASSWORD)}, "tests"
    )
    flask_app = create_app(config)
    yield flask_app
    flask_app.extensions["db_engine"].dispose()


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


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class GunicornServer:
    """``photochanger``'s own gunicorn command line, as serve runs it, on a free port."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 1,
        threads: int = 8,
        log_path: Path | None = None,
    ) -> None:
        from app.ops.serve import gunicorn_command

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
            env={**os.environ, "LOG_LEVEL": "WARNING", **env},
            cwd=PROJECT_ROOT,
            stdout=log_path.open("ab") if log_path else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"gunicorn exited: {stderr[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def gunicorn_env(config: Config, app: Flask) -> dict[str, str]:
    """Environment for app processes outside this one, sharing the test database and media."""
    assert config.database_url
    return {
        "DATABASE_URL": config.database_url,
        "MEDIA_ROOT": str(config.media_root),
        "SECRET_KEY": "test-secret-key",
        "PYTHONPATH": str(PROJECT_ROOT),
    }


@pytest.fixture
def start_gunicorn(gunicorn_env: dict[str, str]) -> Iterator[Callable[..., GunicornServer]]:
    servers: list[GunicornServer] = []

    def start(
        workers: int = 1, threads: int = 8, log_path: Path | None = None, **env: str
    ) -> GunicornServer:
        server = GunicornServer(
            {**gunicorn_env, **env}, workers=workers, threads=threads, log_path=log_path
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def jpeg() -> bytes:
    return make_image_bytes()


@pytest.fixture
def admin_account(db_session: Session) -> str:
    from app.auth.service import create_admin

    create_admin(db_session, ADMIN_USERNAME, ADMIN_PASSWORD)
    return ADMIN_USERNAME


@pytest.fixture
def admin_http(live_server: LiveServer, admin_account: str) -> Iterator[AdminClient]:
    """A logged-in admin talking to the live server (cookie session + CSRF token)."""
    client = AdminClient(live_server.url)
    client.login()
    yield client
    client.session.close()


@pytest.fixture
def api_token(live_server: LiveServer, admin_account: str) -> str:
    response = requests.post(
        f"{live_server.url}/api/login",
        json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def api_http(api_token: str) -> Iterator[requests.Session]:
    """A requests session sending the admin's bearer token; prefix paths with live_server.url."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api_token}"
        yield session


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (scripts/test.sh installs it when missing)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser tab (own cookies) on the live server, in Russian like a default visitor."""
    context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def admin_page(page: Page, admin_account: str) -> Page:
    """A browser tab with the admin logged in through the login form, on the dashboard."""
    page.goto("/admin/login")
    page.fill("input[name=username]", ADMIN_USERNAME)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return page


@pytest.fixture
def telegram(httpserver_ipv4: HTTPServer) -> Iterator[TelegramFake]:
    """A fake Telegram Bot API on 127.0.0.1 (token ``tests.fakes.telegram.TOKEN``)."""
    fake = TelegramFake(httpserver_ipv4)
    yield fake
    assert fake.problems == []
    httpserver_ipv4.check_handler_errors()
