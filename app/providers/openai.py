"""OpenAI Images API driver: one multipart ``POST /v1/images/edits`` per photo.

The guest photo, then the slot's templates, go as repeated ``image[]`` parts. The answer is asked
for in the caller's output format, so its bytes can be stored without converting them. Errors
are classified from the JSON error object; retries mirror the official SDK (408, 409, 429 and
5xx, ``retry-after(-ms)``, ``x-should-retry``) but only while the job's deadline allows.
"""

from __future__ import annotations

import binascii
from typing import Any

import pybase64
import requests
import structlog

from app.config import Config
from app.deadline import Deadline
from app.outbound import OutboundError, TransientFailure, json_body, retry_after_header, send
from app.providers.base import (
    KeyCheck,
    Outbound,
    ProviderBlocked,
    ProviderError,
    ProviderNoImage,
    ProviderRejected,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
)
from app.providers.http import JSON_ANSWER_MAX_BYTES, SMALL_ANSWER_MAX_BYTES, provider_call

log = structlog.get_logger(__name__)

NAME = "openai"
DEFAULT_MODEL = "gpt-image-1.5"
SUGGESTED_MODELS = (DEFAULT_MODEL, "gpt-image-1", "gpt-image-1-mini")
"""Offered in the slot form; any model name is accepted."""
OUTPUT_FORMATS = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}
RETRYABLE_STATUSES = frozenset({408, 409, 429})
BLOCKED_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
SENT_MIME = "image/jpeg"
MESSAGE_LIMIT = 300


class OpenAIProvider:
    name = NAME
    calls_out = True
    works_on_pixels = False

    def __init__(self, api_key: str | None, base_url: str, http: requests.Session) -> None:
        self._api_key = api_key
        self._base = api_base(base_url)
        self._http = http

    @classmethod
    def from_config(cls, config: Config, api_key: str | None, outbound: Outbound) -> OpenAIProvider:
        return cls(api_key, config.openai_api_base, outbound.http)

    def is_configured(self) -> bool:
        return bool(self._api_key)

    def model_of(self, settings: dict[str, Any]) -> str | None:
        return str(settings.get("model") or DEFAULT_MODEL)

    def process(self, request: ProviderRequest) -> ProviderResult:
        fields = edit_fields(request.settings, request.output_mime, request.output_quality)
        files = image_parts(request)

        def attempt() -> bytes:
            response = send(
                self._http,
                "POST",
                f"{self._base}/v1/images/edits",
                service=NAME,
                deadline=request.deadline,
                max_bytes=JSON_ANSWER_MAX_BYTES,
                headers=self._auth(),
                data=fields,
                files=files,
            )
            return image_of(response)

        return ProviderResult(data=provider_call(attempt, provider=NAME, deadline=request.deadline))

    def check_key(self, deadline: Deadline) -> KeyCheck:
        """``GET /v1/models``: 401 means the key is refused; 403 means it is known but lacks that
        permission (restricted keys), so it is accepted."""
        if not self._api_key:
            return KeyCheck.MISSING
        try:
            response = send(
                self._http,
                "GET",
                f"{self._base}/v1/models",
                service=NAME,
                deadline=deadline,
                max_bytes=SMALL_ANSWER_MAX_BYTES,
                headers=self._auth(),
            )
        except OutboundError:
            return KeyCheck.UNREACHABLE
        if response.status_code == 401:
            return KeyCheck.INVALID
        if response.status_code in (200, 403):
            return KeyCheck.OK
        return KeyCheck.UNREACHABLE

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}


def api_base(base_url: str) -> str:
    """The base without a trailing ``/`` or ``/v1`` (the SDK's spelling), so paths add it once."""
    base = base_url.rstrip("/")
    return base.removesuffix("/v1")


def supports_input_fidelity(model: str) -> bool:
    """gpt-image-1 and later take ``input_fidelity``; gpt-image-1-mini and dall-e do not."""
    return "mini" not in model and not model.startswith("dall-e")


def edit_fields(settings: dict[str, Any], output_mime: str, quality: int) -> dict[str, str]:
    model = str(settings.get("model") or DEFAULT_MODEL)
    fields = {
        "model": model,
        "prompt": str(settings.get("prompt") or ""),
        "size": str(settings.get("size") or "auto"),
        "quality": str(settings.get("quality") or "auto"),
    }
    fidelity = settings.get("input_fidelity")
    if fidelity and supports_input_fidelity(model):
        fields["input_fidelity"] = str(fidelity)
    output_format = OUTPUT_FORMATS.get(output_mime)
    if output_format:
        fields["output_format"] = output_format
    if output_format in ("jpeg", "webp"):
        fields["output_compression"] = str(quality)
    return fields


def image_parts(request: ProviderRequest) -> list[tuple[str, tuple[str, bytes, str]]]:
    named = [("photo.jpg", request.photo)] + [
        (f"template-{number}.jpg", template)
        for number, template in enumerate(request.templates, start=1)
    ]
    return [("image[]", (filename, image.jpeg(), SENT_MIME)) for filename, image in named]


def image_of(response: requests.Response) -> bytes:
    body = json_body(response)
    if response.status_code == 200:
        return decoded_image(body)
    raise failure_of(response, body)


def decoded_image(body: dict[str, Any] | None) -> bytes:
    if body is None:
        raise ProviderNoImage("OpenAI answered HTTP 200 with a body that is not a JSON object.")
    data = body.get("data")
    first = data[0] if isinstance(data, list) and data else None
    encoded = first.get("b64_json") if isinstance(first, dict) else None
    if not isinstance(encoded, str) or not encoded:
        raise ProviderNoImage("OpenAI answered without an image (no data[0].b64_json).")
    try:
        return pybase64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ProviderNoImage("OpenAI's data[0].b64_json is not valid base64.") from error


def failure_of(response: requests.Response, body: dict[str, Any] | None) -> Exception:
    """The ``ProviderError`` to end with, or a ``TransientFailure`` worth another try."""
    status = response.status_code
    error = body.get("error") if body else None
    error = error if isinstance(error, dict) else {}
    code, param = _text(error.get("code")), _text(error.get("param"))
    log.warning(
        "openai.error",
        status=status,
        code=code or None,
        type=_text(error.get("type")) or None,
        param=param or None,
        request_id=response.headers.get("x-request-id"),
    )
    message = _text(error.get("message"))[:MESSAGE_LIMIT] or f"HTTP {status}"
    if code in BLOCKED_CODES:
        return ProviderBlocked(f"OpenAI's safety system refused the request: {message}")
    if status == 429 and code == "insufficient_quota":
        return ProviderUnavailable(
            "The OpenAI account is out of credit (insufficient_quota): add credit or raise "
            "its billing limit."
        )
    transient = status in RETRYABLE_STATUSES or status >= 500
    should_retry = response.headers.get("x-should-retry", "").lower()
    if should_retry == "true" or (transient and should_retry != "false"):
        reason = f" ({code})" if code else ""
        return TransientFailure(
            f"OpenAI answered HTTP {status}{reason}.", retry_after_header(response)
        )
    if transient:
        return ProviderUnavailable(f"OpenAI answered HTTP {status} and asked not to retry.")
    return rejection(status, code, param, message)


def rejection(status: int, code: str, param: str, message: str) -> ProviderError:
    if status == 401:
        # OpenAI's own message echoes part of the key, so it is not repeated.
        return ProviderRejected(
            f"OpenAI did not accept the API key ({code or 'HTTP 401'}); check the key."
        )
    if param:
        return ProviderRejected(f"OpenAI rejected the parameter {param!r}: {message}")
    return ProviderRejected(f"OpenAI rejected the request (HTTP {status}): {message}")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
