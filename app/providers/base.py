"""The seam every AI provider plugs into.

A provider gets the prepared guest photo, the slot's template images, its validated settings and
the job's deadline; it returns image bytes with their MIME type, or raises a ``ProviderError``
whose ``failure_reason`` says how the request ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import requests
from flask import current_app
from PIL import Image

from app import context
from app.config import Config
from app.deadline import Deadline
from app.media.images import PreparedImage
from app.media.provider_links import ProviderMediaLinks
from app.urls import external_base_url


class ProviderError(Exception):
    """A classified provider failure; ``failure_reason`` maps to the HTTP answer."""

    failure_reason: ClassVar[str] = "provider_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderRejected(ProviderError):
    """Permanent: bad key, bad argument, unknown model."""

    failure_reason = "provider_error"


class ProviderBlocked(ProviderError):
    failure_reason = "provider_blocked"


class ProviderNoImage(ProviderError):
    failure_reason = "provider_no_image"


class ProviderUnavailable(ProviderError):
    """Transient failures that could not be retried within the deadline."""

    failure_reason = "provider_unavailable"


class ProviderNotConfigured(ProviderError):
    failure_reason = "provider_not_configured"


class ProviderTimeout(ProviderError):
    failure_reason = "timeout"


@dataclass(frozen=True)
class ProviderRequest:
    job_id: str
    photo: PreparedImage
    templates: list[PreparedImage]
    settings: dict[str, Any]
    deadline: Deadline
    output_mime: str
    """The MIME the caller answers with; providers that can choose their format use it."""
    output_quality: int = 90


@dataclass(frozen=True)
class ProviderResult:
    """Encoded bytes from a remote provider, or the image itself from one that works in-process
    (so it is encoded once, straight into the slot's output format)."""

    data: bytes | None = None
    image: Image.Image | None = field(default=None, repr=False)
    answer_cpu_seconds: float = 0.0
    """The thread CPU the driver spent turning the provider's answer into ``data`` (parsing,
    base64): part of the per-answer CPU the job logs."""


class KeyCheck(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    UNREACHABLE = "unreachable"
    MISSING = "missing"


@dataclass(frozen=True)
class Outbound:
    """What drivers that call out share: the HTTP session and the public links to inputs."""

    http: requests.Session
    media_links: ProviderMediaLinks


def request_outbound() -> Outbound:
    """The app's shared HTTP session and this request's public links to provider inputs."""
    links = ProviderMediaLinks(
        context.media_store(), context.config().secret_key or "", external_base_url()
    )
    return Outbound(current_app.extensions["photochanger.http"], links)


class Provider(Protocol):
    name: str
    calls_out: bool
    """Whether it calls an external service (and so counts against the provider concurrency)."""
    works_on_pixels: bool
    """Whether it reads the photo's pixels (``PreparedImage.image``) rather than its JPEG: the
    photo is then decoded before the call, within the process's image-work turn."""

    @classmethod
    def from_config(cls, config: Config, api_key: str | None, outbound: Outbound) -> Provider:
        """The driver as the app runs it: its base URL from ``config``."""
        ...

    def is_configured(self) -> bool: ...

    def model_of(self, settings: dict[str, Any]) -> str | None: ...

    def process(self, request: ProviderRequest) -> ProviderResult: ...

    def check_key(self, deadline: Deadline) -> KeyCheck:
        """One cheap authenticated call: is the key accepted?"""
        ...
