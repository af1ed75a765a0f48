"""Short-lived public links to a job's inputs, for providers that fetch images by URL.

A link is ``/public/provider-media/<token>``: the token is signed with SECRET_KEY and names the job,
the file and the moment it expires (the job's deadline). Files live in
``temp/provider-media/<job_id>/`` and are removed when the job ends, whatever its outcome.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer

from app.media.storage import SAFE_NAME, MediaStore, UnsafePath

FOLDER = "temp/provider-media"


class LinkInvalid(Exception):
    pass


class LinkExpired(Exception):
    pass


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    mime: str


class ProviderMediaLinks:
    def __init__(self, store: MediaStore, secret_key: str, public_base_url: str) -> None:
        self.store = store
        self.serializer = URLSafeSerializer(secret_key, salt="provider-media")
        self.public_base_url = public_base_url.rstrip("/")

    def publish(self, job_id: str, name: str, data: bytes, mime: str, expires_at: float) -> str:
        """Write ``data`` for ``job_id`` and return its public URL, valid until ``expires_at``
        (Unix time)."""
        if not (SAFE_NAME.match(job_id) and SAFE_NAME.match(name)):
            raise UnsafePath(f"{job_id}/{name}")
        folder = self.store.root / FOLDER / job_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        token = self.serializer.dumps([job_id, name, mime, round(expires_at, 3)])
        return f"{self.public_base_url}/public/provider-media/{token}"

    def resolve(self, token: str, now: float | None = None) -> PublishedFile:
        try:
            job_id, name, mime, expires_at = self.serializer.loads(token)
        except (BadSignature, ValueError, TypeError) as error:
            raise LinkInvalid(token[:16]) from error
        if not (SAFE_NAME.match(str(job_id)) and SAFE_NAME.match(str(name))):
            raise LinkInvalid(token[:16])
        if (now if now is not None else time.time()) >= float(expires_at):
            raise LinkExpired(job_id)
        try:
            path = self.store.path(f"{FOLDER}/{job_id}/{name}")
        except UnsafePath as error:
            raise LinkInvalid(token[:16]) from error
        if not path.is_file():
            raise LinkExpired(job_id)
        return PublishedFile(path, str(mime))

    def discard(self, job_id: str) -> None:
        if SAFE_NAME.match(job_id):
            self.store.remove(f"{FOLDER}/{job_id}")
