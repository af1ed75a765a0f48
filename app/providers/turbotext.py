"""Turbotext photo API (``/api_ai/<method>``): a queued task per photo.

Turbotext downloads its inputs by URL, so the photo and the template are published as short-lived
public links (valid until the job's deadline; the ingest service discards them when the job ends).
Every ``create_queue`` is billed as one photo attempt: it is repeated only when it surely did not
queue anything (transport error, 429/5xx, a "busy" answer) and never because the queue is slow.
``get_result`` is free and is polled every ~2 s until the result or the deadline.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import structlog

from app.config import Config
from app.deadline import Deadline
from app.media.images import PreparedImage, sniff_mime
from app.media.provider_links import ProviderMediaLinks
from app.outbound import OutboundError, TransientFailure, json_body, retry_after_header, send
from app.providers.base import (
    KeyCheck,
    Outbound,
    ProviderError,
    ProviderNoImage,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
)
from app.providers.http import IMAGE_ANSWER_MAX_BYTES, SMALL_ANSWER_MAX_BYTES, provider_call

log = structlog.get_logger(__name__)

METHODS = ("generate_image2image", "mix_images", "deepfake_photo")
KEY_CHECK_METHOD = "available_api"
"""Lists the methods the account may use: authenticated, processes no photo."""
POLL_INTERVAL_SECONDS = 2.0
POLL_RESERVE_SECONDS = 0.3
"""Left before the deadline for the last poll and the download."""
MESSAGE_LIMIT = 200
GENERATE_FIELDS = ("strength", "seed", "scale", "negative_prompt")
TEMPLATE_ROLES = {
    "mix_images": "a template image to take the style from",
    "deepfake_photo": "a template image with the face to insert",
}
TRANSIENT_MARKERS = (
    "busy",
    "overload",
    "temporar",
    "try again",
    "try later",
    "timeout",
    "timed out",
    "rate limit",
    "too many",
    "перегруж",
    "позже",
)
AUTH_MARKERS = ("key", "token", "auth", "vip", "ключ", "токен", "авториз")
ERROR_HINTS = {
    "face_not_detected": "no face was found in the photo",
    "url_error": "it could not download the images from our public links; check PUBLIC_BASE_URL",
    "params_error": "it refused the slot's parameters",
    "limit": "the account's photo quota is used up",
}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _site(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    default_port = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "").removeprefix("www."), parts.port or default_port


def result_hosts(base_url: str, extra: str) -> tuple[str, ...]:
    """The hosts result links may point at: the API base's (without ``www.``) and ``extra``'s."""
    base = (urlsplit(base_url).hostname or "").lower().removeprefix("www.")
    hosts = [base, *(host.strip().lower().removeprefix("*.") for host in extra.split(","))]
    return tuple(host for host in hosts if host)


def on_allowed_host(link: str, hosts: tuple[str, ...]) -> bool:
    """Whether ``link``'s host is one of ``hosts`` or a subdomain of one."""
    host = (urlsplit(link).hostname or "").lower()
    return bool(host) and any(host == allowed or host.endswith("." + allowed) for allowed in hosts)


def error_of(body: dict[str, Any]) -> ProviderError | TransientFailure:
    """The failure a ``{"success": false, "error": "<code>"}`` answer stands for."""
    code = _short(str(body.get("error") or body.get("message") or ""))
    if not code:
        return ProviderRejected("Turbotext reported a failure without saying why.")
    lowered = code.lower()
    if any(marker in lowered for marker in TRANSIENT_MARKERS):
        return TransientFailure(f"Turbotext is busy ({code}).")
    if any(marker in lowered for marker in AUTH_MARKERS):
        return ProviderRejected(f"Turbotext refused the API key ({code}).")
    hint = ERROR_HINTS.get(lowered)
    return ProviderRejected(
        f"Turbotext rejected the request ({code}): {hint}."
        if hint
        else f"Turbotext rejected the request ({code})."
    )


def raise_for_status(response: requests.Response, step: str) -> None:
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientFailure(
            f"Turbotext answered HTTP {status} to {step}.", retry_after_header(response)
        )
    if status in (401, 403):
        raise ProviderRejected(f"Turbotext refused the API key (HTTP {status}).")
    if status != 200:
        raise ProviderRejected(f"Turbotext answered HTTP {status} to {step}.")


def queue_id_of(body: dict[str, Any]) -> str:
    if body.get("success") is not True:
        raise error_of(body)
    queue_id = body.get("queueid")
    if isinstance(queue_id, bool) or not isinstance(queue_id, int | str) or not str(queue_id):
        raise ProviderUnavailable("Turbotext accepted create_queue but sent no queueid.")
    return str(queue_id)


def result_link(body: dict[str, Any], base_url: str) -> str | None:
    """Top-level ``uploaded_image``, else ``data.uploaded_image``, else ``data.image[0]``;
    relative paths are resolved against the base URL."""
    data = body.get("data")
    if not isinstance(data, dict):
        data = {}
    images = data.get("image")
    candidates = [
        body.get("uploaded_image"),
        data.get("uploaded_image"),
        images[0] if isinstance(images, list) and images else None,
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return urljoin(base_url + "/", candidate.strip())
    return None


class TurbotextProvider:
    name = "turbotext"
    calls_out = True
    works_on_pixels = False

    def __init__(
        self,
        api_key: str | None,
        base_url: str,
        http: requests.Session,
        media_links: ProviderMediaLinks,
        *,
        extra_result_hosts: str = "",
        poll_interval: float = POLL_INTERVAL_SECONDS,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.result_hosts = result_hosts(base_url, extra_result_hosts)
        self.http = http
        self.media_links = media_links
        self.poll_interval = poll_interval

    @classmethod
    def from_config(
        cls, config: Config, api_key: str | None, outbound: Outbound
    ) -> TurbotextProvider:
        return cls(
            api_key,
            config.turbotext_api_base,
            outbound.http,
            outbound.media_links,
            extra_result_hosts=config.turbotext_result_hosts,
        )

    def is_configured(self) -> bool:
        return bool(self.api_key)

    def model_of(self, settings: dict[str, Any]) -> str | None:
        method = settings.get("method")
        return str(method) if method else None

    def check_key(self, deadline: Deadline) -> KeyCheck:
        if not self.api_key:
            return KeyCheck.MISSING
        try:
            response = self._post(KEY_CHECK_METHOD, {"do": "create_queue"}, deadline)
        except OutboundError:
            return KeyCheck.UNREACHABLE
        if response.status_code in (401, 403):
            return KeyCheck.INVALID
        body = json_body(response)
        if response.status_code != 200 or body is None:
            return KeyCheck.UNREACHABLE
        if body.get("success") is True:
            return KeyCheck.OK
        failure = error_of(body)
        log.info("turbotext.key_check_refused", reason=str(failure))
        return KeyCheck.UNREACHABLE if isinstance(failure, TransientFailure) else KeyCheck.INVALID

    def process(self, request: ProviderRequest) -> ProviderResult:
        if not self.api_key:
            raise ProviderNotConfigured("Turbotext has no API key.")
        method = str(request.settings.get("method") or "")
        fields = self._create_fields(method, request)
        queue_id = self._create_queue(method, fields, request.deadline)
        link = self._await_result(method, queue_id, request.deadline)
        return ProviderResult(data=self._download(link, request.deadline))

    def _create_fields(self, method: str, request: ProviderRequest) -> dict[str, str]:
        """The ``create_queue`` form of ``method``, publishing the photo (and template)."""
        settings = request.settings
        if method not in METHODS:
            raise ProviderRejected(f"Turbotext has no method {method!r}; use one of {METHODS}.")
        if method in TEMPLATE_ROLES and not request.templates:
            raise ProviderRejected(
                f"Turbotext {method} needs {TEMPLATE_ROLES[method]}; the slot has none."
            )
        if method == "generate_image2image" and not settings.get("prompt"):
            raise ProviderRejected("Turbotext generate_image2image needs a prompt.")
        photo = self._publish(request, "photo.jpg", request.photo)
        fields = {"do": "create_queue"}
        if method == "generate_image2image":
            fields |= {"url": photo, "content": str(settings["prompt"])}
            fields |= {name: str(settings[name]) for name in GENERATE_FIELDS if name in settings}
            return fields
        template = self._publish(request, "template.jpg", request.templates[0])
        if method == "mix_images":
            fields |= {"url_image_target": photo, "url": template}
            if settings.get("prompt"):
                fields["content"] = str(settings["prompt"])
            return fields
        fields |= {"url": photo, "url_image_target": template}
        if settings.get("face_restore") is not None:
            fields["face_restore"] = "True" if settings["face_restore"] else "False"
        return fields

    def _publish(self, request: ProviderRequest, name: str, image: PreparedImage) -> str:
        expires_at = time.time() + request.deadline.remaining()
        data = image.jpeg()
        return self.media_links.publish(request.job_id, name, data, "image/jpeg", expires_at)

    def _post(self, method: str, fields: dict[str, str], deadline: Deadline) -> requests.Response:
        return send(
            self.http,
            "POST",
            f"{self.base_url}/api_ai/{method}",
            service=self.name,
            deadline=deadline,
            max_bytes=SMALL_ANSWER_MAX_BYTES,
            data=fields,
            headers={"Authorization": f"Bearer {self.api_key}"},
        )

    def _create_queue(self, method: str, fields: dict[str, str], deadline: Deadline) -> str:
        def attempt() -> str:
            response = self._post(method, fields, deadline)
            raise_for_status(response, "create_queue")
            body = json_body(response)
            if body is None:
                raise ProviderUnavailable(
                    "Turbotext answered create_queue with something that is not JSON; "
                    "not repeated, as it may have been queued and billed."
                )
            return queue_id_of(body)

        queue_id = provider_call(attempt, provider=self.name, deadline=deadline)
        log.info("turbotext.queued", method=method, queue_id=queue_id)
        return queue_id

    def _await_result(self, method: str, queue_id: str, deadline: Deadline) -> str:
        """Poll ``get_result`` until the result link, never past the deadline."""
        polls = 0
        while True:
            wait = min(self.poll_interval, deadline.remaining() - POLL_RESERVE_SECONDS)
            if wait <= 0:
                raise ProviderTimeout(
                    f"Turbotext had not finished queue {queue_id} after {polls} polls "
                    "when the deadline came."
                )
            time.sleep(wait)
            polls += 1
            link = provider_call(
                lambda: self._poll(method, queue_id, deadline),
                provider=self.name,
                deadline=deadline,
            )
            if link is not None:
                log.info("turbotext.finished", method=method, queue_id=queue_id, polls=polls)
                return link

    def _poll(self, method: str, queue_id: str, deadline: Deadline) -> str | None:
        """The result link, or None while Turbotext answers ``reconnect``."""
        response = self._post(method, {"do": "get_result", "queueid": queue_id}, deadline)
        raise_for_status(response, "get_result")
        body = json_body(response)
        if body is None:
            raise TransientFailure("Turbotext answered get_result with something that is not JSON.")
        if body.get("action") == "reconnect":
            return None
        if body.get("success") is not True:
            raise error_of(body)
        link = result_link(body, self.base_url)
        if link is None:
            raise ProviderNoImage("Turbotext finished but named no result image.")
        return link

    def _download(self, link: str, deadline: Deadline) -> bytes:
        if urlsplit(link).scheme not in ("http", "https"):
            raise ProviderNoImage("Turbotext's result link is not an HTTP URL.")
        if not on_allowed_host(link, self.result_hosts):
            raise ProviderRejected(
                f"Turbotext named a result on {urlsplit(link).hostname}, which is not one of its "
                "hosts; add it to TURBOTEXT_RESULT_HOSTS if it is."
            )
        same_site = _site(link) == _site(self.base_url)
        headers = {"Authorization": f"Bearer {self.api_key}"} if same_site else {}

        def attempt() -> bytes:
            response = send(
                self.http,
                "GET",
                link,
                service=self.name,
                deadline=deadline,
                max_bytes=IMAGE_ANSWER_MAX_BYTES,
                headers=headers,
            )
            if response.status_code == 429 or response.status_code >= 500:
                raise TransientFailure(
                    f"Turbotext's result download answered HTTP {response.status_code}.",
                    retry_after_header(response),
                )
            if response.status_code != 200:
                raise ProviderNoImage(
                    f"Turbotext's result could not be downloaded (HTTP {response.status_code})."
                )
            if sniff_mime(response.content[:16]) is None:
                raise ProviderNoImage("Turbotext's result link did not serve an image.")
            return response.content

        return provider_call(attempt, provider=self.name, deadline=deadline)
