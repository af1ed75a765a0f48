"""Posting photos the way a booth's multipart upload does, and reading the ingest answers."""

from __future__ import annotations

import requests

from app.auth.passwords import check_booth_password
from app.config import Config

INGEST_PASSWORD = "booth-secret"


def booth_password_matches(config: Config, stored_hash: str, password: str) -> bool:
    return check_booth_password(config.booth_password_key, stored_hash, password).valid


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


def assert_error(response: requests.Response, status: int, reason: str) -> dict[str, str]:
    """The flat JSON error body of the ingest table, with this status and failure reason."""
    assert response.status_code == status, response.text
    body: dict[str, str] = response.json()
    assert (body["status"], body["failure_reason"]) == ("error", reason)
    assert body["message"]
    return body
