"""Helpers the tests share: photo factories and a booth-like multipart client."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import requests
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ingest.models import Job

INGEST_PASSWORD = "booth-secret"


def make_image_bytes(
    width: int = 640,
    height: int = 480,
    fmt: str = "JPEG",
    *,
    color: tuple[int, int, int] = (200, 120, 50),
    exif_orientation: int | None = None,
    with_gps: bool = False,
    noise: bool = False,
    quality: int = 90,
) -> bytes:
    if noise:
        channels = [Image.effect_noise((width, height), sigma) for sigma in (40, 60, 80)]
        image = Image.merge("RGB", channels)
    else:
        image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    if with_gps:
        exif[0x010F] = "CameraMaker"
        exif[0xA431] = "SERIAL-123456"  # BodySerialNumber
        exif.get_ifd(0x8825)[2] = (55.0, 45.0, 0.0)  # GPSLatitude
    out = io.BytesIO()
    options: dict[str, Any] = {"exif": exif.tobytes()} if len(exif) or with_gps else {}
    if fmt == "JPEG":
        options["quality"] = quality
    image.save(out, fmt, **options)
    return out.getvalue()


def ingest_url(server_url: str, slot_id: str = "slot-001") -> str:
    return f"{server_url}/ingest/{slot_id}"


def post_photo(
    http: requests.Session,
    url: str,
    photo: bytes | None,
    *,
    password: str | None = INGEST_PASSWORD,
    field: str = "fileToUpload",
    extra: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 70,
) -> requests.Response:
    data = dict(extra or {})
    if password is not None:
        data["password"] = password
    files = {field: ("IMG_0003.JPG", photo, "image/jpeg")} if photo is not None else None
    if files is None:
        files = {"unrelated": ("x.txt", b"", "text/plain")}  # still multipart, no photo part
    return http.post(url, data=data, files=files, headers=headers or {}, timeout=timeout)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def assert_error(response: requests.Response, status: int, reason: str) -> dict[str, str]:
    """The flat JSON error body of the ingest table, with this status and failure reason."""
    assert response.status_code == status, response.text
    body: dict[str, str] = response.json()
    assert (body["status"], body["failure_reason"]) == ("error", reason)
    assert body["message"]
    return body


def only_job(db_session: Session) -> Job:
    jobs = db_session.scalars(select(Job)).all()
    assert len(jobs) == 1
    return jobs[0]


ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-secret-123"
CSRF_FIELD = re.compile(r'name="csrf-token" content="([^"]+)"')


class AdminClient:
    """A logged-in admin's browser session over real HTTP: cookie, CSRF token, htmx headers."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.csrf_token = ""

    def login(self, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> None:
        page = self.session.get(f"{self.base_url}/admin/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "login form has no CSRF field"
        response = self.session.post(
            f"{self.base_url}/admin/login",
            data={"username": username, "password": password, "csrf_token": token.group(1)},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        self.refresh_csrf()

    def refresh_csrf(self) -> None:
        page = self.session.get(f"{self.base_url}/admin/")
        found = CSRF_FIELD.search(page.text)
        assert found, "admin layout has no csrf-token meta tag"
        self.csrf_token = found.group(1)

    def get(self, path: str, htmx: bool = False, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base_url + path, headers=self._headers(htmx), **kwargs)

    def post(self, path: str, htmx: bool = False, **kwargs: Any) -> requests.Response:
        """A state-changing request with the CSRF token sent as htmx does (header)."""
        return self.request("POST", path, htmx=htmx, **kwargs)

    def request(
        self, method: str, path: str, htmx: bool = False, csrf: bool = True, **kwargs: Any
    ) -> requests.Response:
        headers = self._headers(htmx)
        if csrf:
            headers["X-CSRFToken"] = self.csrf_token
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    @staticmethod
    def _headers(htmx: bool) -> dict[str, str]:
        return {"HX-Request": "true"} if htmx else {}
