"""Process configuration, read once from the environment.

It is also the one place where keys are derived from SECRET_KEY (and from the earlier keys in
SECRET_KEY_FALLBACKS, tried after it while a rotation is under way).

Every secret may also be given as ``NAME_FILE`` pointing at a file that holds it (Docker secrets).
Runtime values an admin edits in the UI live in the database instead (see ``app.settings``); the
environment only provides their initial values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.proxy import Network, parse_networks
from app.resources import PROJECT_ROOT as PROJECT_ROOT
from app.resources import default_media_root

ACCEL_PREFIX = re.compile(r"^/(?:[A-Za-z0-9_][A-Za-z0-9_.~-]*/)+$")

SECRET_NAMES = (
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "JWT_SIGNING_KEY",
    "ADMIN_PASSWORD",
    "INGEST_PASSWORD",
    "GEMINI_API_KEY",
    "OPENAI_API_KEY",
    "TURBOTEXT_API_KEY",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "METRICS_TOKEN",
)


class Config(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    database_url: str | None = None
    media_root: Path = Field(default_factory=default_media_root)
    public_base_url: str | None = None
    secret_key: str | None = None
    secret_key_fallbacks: str = ""
    """Earlier SECRET_KEYs, comma-separated: what they encrypted or signed stays readable until
    ``photochanger secrets rotate`` has moved it to SECRET_KEY."""
    jwt_signing_key: str | None = None

    admin_username: str = "admin"
    admin_password: str | None = None
    ingest_password: str | None = None

    result_ttl_hours: int = Field(72, ge=1, le=168)
    t_sync_response_seconds: int = Field(48, ge=10, le=60)
    max_upload_mb: int = Field(20, ge=1, le=200)
    max_image_pixels: int = Field(50_000_000, ge=1_000_000)

    gemini_api_key: str | None = None
    openai_api_key: str | None = None
    turbotext_api_key: str | None = None
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None

    gemini_api_base: str = "https://generativelanguage.googleapis.com"
    turbotext_api_base: str = "https://www.turbotext.ru"
    turbotext_result_hosts: str = ""
    """Comma-separated hosts (with their subdomains) Turbotext may name for result images besides
    the API base's own host and its subdomains; links to any other host are refused."""
    openai_api_base: str = "https://api.openai.com"
    telegram_api_base: str = "https://api.telegram.org"

    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = Field(2, ge=1)
    threads: int = Field(64, ge=1)
    ingest_jobs_per_worker: int | None = Field(None, ge=1)
    """Booth uploads one worker runs at once (more are refused with 429 ``server_busy``); unset =
    three quarters of ``threads``, keeping the rest for health checks, admin pages, the bot
    webhook and quick refusals (``app.ingest.capacity``)."""
    image_work_per_worker: int = Field(2, ge=1)
    """Decodes and encodes one worker runs at once; the others wait their turn."""
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    """``json``: one JSON object per line (for log collectors); ``console``: for reading by eye."""
    metrics_token: str | None = None
    proxy_hops: int = Field(0, ge=0, le=5)
    """How many reverse proxies (nginx…) stand in front; their X-Forwarded-* headers are trusted."""
    trusted_proxies: str = "127.0.0.1,::1"
    """The proxies' addresses or networks, comma-separated; forwarded headers from anyone else are
    dropped."""
    media_accel_redirect: str | None = None
    """URL prefix of nginx's internal media location (``/_protected_media/``): when set, media
    files are answered with an empty body and ``X-Accel-Redirect`` for nginx to send."""
    allowed_hosts: str = "localhost,127.0.0.1,::1"
    """Host names that may start the absolute links the app hands out while PUBLIC_BASE_URL is
    unset (a Host arriving through a trusted proxy is accepted too)."""

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        for name in SECRET_NAMES:
            file_path = os.environ.get(f"{name}_FILE")
            if file_path and not os.environ.get(name) and name.lower() not in values:
                values[name.lower()] = Path(file_path).read_text(encoding="utf-8").strip()
        return values

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def jwt_key(self) -> str:
        """JWT_SIGNING_KEY, or a key derived from SECRET_KEY so every process agrees on it."""
        if self.jwt_signing_key:
            return self.jwt_signing_key
        secret = (self.secret_key or "").encode()
        return hmac.new(secret, b"photochanger api tokens", hashlib.sha256).hexdigest()

    @property
    def secret_keys(self) -> list[str]:
        """SECRET_KEY, then the distinct keys of SECRET_KEY_FALLBACKS."""
        keys = [self.secret_key or ""]
        for fallback in self.secret_key_fallbacks.split(","):
            if fallback.strip() and fallback.strip() not in keys:
                keys.append(fallback.strip())
        return keys

    @property
    def booth_password_key(self) -> bytes:
        """The key of the booth passwords' keyed hashes, derived from SECRET_KEY: every process
        agrees on it, and the stored hashes are useless without it."""
        return self.booth_password_keys[0]

    @property
    def booth_password_keys(self) -> list[bytes]:
        """The booth password key of SECRET_KEY, then those of the fallbacks."""
        return [
            hmac.new(secret.encode(), b"photochanger booth passwords", hashlib.sha256).digest()
            for secret in self.secret_keys
        ]

    @property
    def stored_secret_keys(self) -> list[bytes]:
        """The Fernet keys of the secrets stored in the database (provider API keys): SECRET_KEY's
        first, then the fallbacks'."""
        return [
            base64.urlsafe_b64encode(
                hashlib.sha256(b"photochanger/provider-keys/" + secret.encode()).digest()
            )
            for secret in self.secret_keys
        ]

    @property
    def trusted_proxy_networks(self) -> list[Network]:
        return parse_networks(self.trusted_proxies)

    @property
    def allowed_host_names(self) -> list[str]:
        return [name.strip().lower() for name in self.allowed_hosts.split(",") if name.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("media_accel_redirect")
    @classmethod
    def _accel_prefix(cls, value: str | None) -> str | None:
        if value is not None and not ACCEL_PREFIX.match(value):
            raise ValueError(
                "must be a URL path that starts and ends with '/', e.g. /_protected_media/"
            )
        return value

    @property
    def ingest_job_places(self) -> int:
        return self.ingest_jobs_per_worker or max(1, self.threads * 3 // 4)

    @property
    def public_base_is_https(self) -> bool:
        return (self.public_base_url or "").startswith("https://")

    @property
    def local_state_dir(self) -> Path:
        """Local state kept beside the media volume: the embedded database and generated keys."""
        return self.media_root.resolve().parent / ".photochanger"
