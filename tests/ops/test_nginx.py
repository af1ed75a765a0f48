"""The shipped nginx config, checked by Debian's nginx and run for real in front of gunicorn:
uploads pass, results come through X-Accel-Redirect, /metrics stays private and the app sees the
client's address."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from app.auth.models import LoginAttempt
from app.config import PROJECT_ROOT
from app.headers import CONTENT_SECURITY_POLICY
from tests.support.images import make_image_bytes
from tests.support.ingest import ingest_url, post_photo
from tests.support.servers import GunicornServer, free_port

SHIPPED_CONFIG = PROJECT_ROOT / "scripts" / "deploy" / "nginx.conf"
ACCEL_PREFIX = "/_protected_media/"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
"""What the app sends on a result, which nginx must send as well when it serves the file."""
CLIENT_ADDRESS = "127.0.0.2"
"""A loopback address of its own for the test's client, so the app can tell it from nginx's."""


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip("nginx is not installed (scripts/test.sh installs Debian's nginx as root)")
    pytest.fail("nginx is missing: scripts/test.sh installs Debian's nginx package")


def for_test(shipped: str, upstream: str, port: int, media_root: Path, folder: Path) -> str:
    """The shipped server config with only what must differ in a test replaced: the upstream
    address (Debian's nginx 1.22 has no ``resolve``, which the compose file's 1.27 image uses),
    the listen port, the access log and the media folder. Each replaced line must be there
    exactly once, so a changed shipped file fails here instead of being tested half-replaced."""
    replacements = {
        "server app:8000 resolve;": f"server {upstream};",
        "listen 80 default_server;": f"listen 127.0.0.1:{port} default_server;",
        "access_log /var/log/nginx/access.log photochanger;": (
            f"access_log {folder}/access.log photochanger;"
        ),
        "alias /data/media/;": f"alias {media_root}/;",
    }
    for shipped_line, test_line in replacements.items():
        assert shipped.count(shipped_line) == 1, f"{shipped_line!r} is no longer in nginx.conf"
        shipped = shipped.replace(shipped_line, test_line)
    return shipped


def main_config(folder: Path, server_config: Path) -> str:
    """The ``nginx.conf`` around it, like the nginx image's own: the shipped file is included in
    ``http {}``. One process, so it runs as whoever runs the tests; every path is in ``folder``."""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp_paths}
    include {server_config};
}}
"""


class Nginx:
    def __init__(self, binary: str, folder: Path, upstream: str, media_root: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        server_config = folder / "photochanger.conf"
        server_config.write_text(
            for_test(SHIPPED_CONFIG.read_text(), upstream, self.port, media_root, folder)
        )
        self.config = folder / "nginx.conf"
        self.config.write_text(main_config(folder, server_config))
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> list[str]:
        return [self.binary, "-p", str(self.folder), "-e", "stderr", "-c", str(self.config), *args]

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command(), stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (
                self.process.stderr.read() if self.process.stderr else ""
            )
            try:
                requests.get(f"{self.url}/nginx-health", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


class FromAddress(HTTPAdapter):
    """Connections that leave from ``address`` (any 127.x address is this machine)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


@pytest.fixture
def app_server(start_gunicorn) -> GunicornServer:
    server: GunicornServer = start_gunicorn(
        PROXY_HOPS="1", TRUSTED_PROXIES="127.0.0.1", MEDIA_ACCEL_REDIRECT=ACCEL_PREFIX
    )
    return server


@pytest.fixture
def nginx(app_server: GunicornServer, media_root: Path, tmp_path: Path) -> Iterator[Nginx]:
    proxy = Nginx(nginx_binary(), tmp_path / "nginx", f"127.0.0.1:{app_server.port}", media_root)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def guest() -> Iterator[requests.Session]:
    """A guest's browser, on an address other than nginx's own."""
    with requests.Session() as session:
        session.mount("http://", FromAddress(CLIENT_ADDRESS))
        yield session


def test_the_shipped_config_passes_nginx_t(tmp_path, media_root):
    proxy = Nginx(nginx_binary(), tmp_path / "nginx", "127.0.0.1:8000", media_root)
    checked = proxy.check()
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_the_shipped_config_streams_uploads_with_room_for_the_cap_and_the_deadline():
    text = SHIPPED_CONFIG.read_text()
    assert "proxy_request_buffering off;" in text
    assert "client_max_body_size 25m;" in text  # above the default MAX_UPLOAD_MB=20
    assert "proxy_read_timeout 75s;" in text  # above T_sync_response's maximum of 60 s


@pytest.mark.slow
def test_a_booth_upload_and_its_result_go_through_nginx(nginx, app_server, guest):
    photo = make_image_bytes(noise=True)

    booth = post_photo(guest, ingest_url(nginx.url), photo)
    assert booth.status_code == 200, booth.text
    job_id = booth.headers["X-Job-Id"]
    via_nginx = guest.get(f"{nginx.url}/public/results/{job_id}", params={"download": "1"})
    direct = requests.get(f"{app_server.url}/public/results/{job_id}", timeout=5)

    assert via_nginx.status_code == 200
    assert via_nginx.content == booth.content
    assert via_nginx.headers["Content-Type"] == "image/jpeg"
    assert via_nginx.headers["Content-Disposition"].startswith("attachment")
    assert via_nginx.headers["Cache-Control"].startswith("private, max-age=")
    assert "X-Accel-Redirect" not in via_nginx.headers
    assert {name: via_nginx.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert direct.content == b""
    assert {name: direct.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert direct.headers["X-Accel-Redirect"].startswith(f"{ACCEL_PREFIX}results/slot-001/")
    preview = guest.get(f"{nginx.url}/public/results/{job_id}/preview")
    assert (preview.status_code, preview.headers["Content-Type"]) == (200, "image/webp")
    assert preview.content.startswith(b"RIFF")


@pytest.mark.slow
def test_the_internal_media_location_and_metrics_are_not_reachable_through_nginx(
    nginx, app_server, guest, media_root
):
    (media_root / "results" / "probe.txt").write_text("private")

    for path in ("/metrics", "/metrics?name[]=x", "//metrics", "/%6detrics", "/metrics/"):
        assert guest.get(nginx.url + path).status_code == 404, path
    assert guest.get(f"{nginx.url}{ACCEL_PREFIX}results/probe.txt").status_code == 404
    assert requests.get(f"{app_server.url}/metrics", timeout=5).status_code == 200


@pytest.mark.slow
def test_the_app_sees_the_clients_address_through_nginx_never_a_forged_one(
    nginx, guest, db_session
):
    response = guest.post(
        f"{nginx.url}/api/login",
        json={"username": "admin", "password": "wrong-password"},
        headers={"X-Forwarded-For": "198.51.100.9"},
    )

    assert response.status_code == 401, response.text
    attempts = db_session.scalars(select(LoginAttempt.ip)).all()
    assert attempts == [CLIENT_ADDRESS]
