"""Google Gemini image generation (``models/{model}:generateContent``): one call per photo.

One user turn carries the guest photo, then the slot's templates, then the prompt. The answer's
image is the last non-thought inline image across all candidates: Gemini 3 models send draft
("thought") images first, and a text part often precedes the image. Responses are camelCase on
the wire; snake_case is tolerated because several SDK-derived samples use it.
"""

from __future__ import annotations

import binascii
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pybase64
import requests

from app.config import Config
from app.deadline import Deadline
from app.media.images import sniff_mime
from app.outbound import OutboundError, TransientFailure, json_body, retry_after_header, send
from app.providers.base import (
    KeyCheck,
    Outbound,
    ProviderBlocked,
    ProviderError,
    ProviderNoImage,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderRequest,
    ProviderResult,
    ProviderUnavailable,
)
from app.providers.http import JSON_ANSWER_MAX_BYTES, SMALL_ANSWER_MAX_BYTES, provider_call

DEFAULT_MODEL = "gemini-2.5-flash-image"
SUGGESTED_MODELS = (DEFAULT_MODEL, "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview")
"""Offered in the slot form; any model name is accepted (Google adds models often)."""
NO_IMAGE_PAUSE_SECONDS = 1.0
MAX_NO_IMAGE_ANSWERS = 5
"""Upstream retried a missing image up to five times; more only burns quota."""
MESSAGE_LIMIT = 300
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
BLOCKING_FINISH_REASONS = frozenset(
    {
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "IMAGE_OTHER",
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
    }
)
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
QUOTA_FAILURE_TYPE = "type.googleapis.com/google.rpc.QuotaFailure"


class NoImageYet(TransientFailure):
    """A well-formed answer without a final image: worth asking again after a short pause."""


def _get(mapping: dict[str, Any], camel: str, snake: str) -> Any:
    return mapping[camel] if camel in mapping else mapping.get(snake)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "without a content type").split(";")[0]


def parse_duration(value: Any) -> float | None:
    """A protobuf Duration string (``"45.837906927s"``) in seconds, rounded to 10 ms."""
    if not isinstance(value, str) or not value.endswith("s"):
        return None
    try:
        seconds = float(value[:-1])
    except ValueError:
        return None
    return round(seconds, 2) if seconds >= 0 else None


def encode_body(request: ProviderRequest, model: str) -> bytes:
    """The request body as JSON bytes. The images' base64 is spliced in after the rest is
    serialized: base64 needs no JSON escaping, and the encoder would copy and scan megabytes."""
    images = [request.photo, *request.templates]
    placeholder = f"image-{secrets.token_hex(8)}"
    serialized = json.dumps(build_body(request, model, len(images), placeholder)).encode()
    pieces = serialized.split(f'"{placeholder}"'.encode())
    out = [pieces[0]]
    for image, piece in zip(images, pieces[1:], strict=True):
        out += [b'"', pybase64.b64encode(image.jpeg()), b'"', piece]
    return b"".join(out)


def build_body(
    request: ProviderRequest, model: str, image_count: int, image_data: str
) -> dict[str, Any]:
    """The request body with ``image_data`` standing for each image's base64."""
    settings = request.settings
    parts: list[dict[str, Any]] = [
        {"inlineData": {"mimeType": "image/jpeg", "data": image_data}} for _ in range(image_count)
    ]
    prompt = str(settings.get("prompt") or "").strip()
    if not prompt:
        raise ProviderRejected("The slot has no prompt for Gemini.")
    parts.append({"text": prompt})
    generation: dict[str, Any] = {"responseModalities": ["IMAGE"]}
    image_config = _image_config(settings, model)
    if image_config:
        generation["imageConfig"] = image_config
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": parts}],
        "generationConfig": generation,
    }
    if settings.get("safety_settings"):
        body["safetySettings"] = settings["safety_settings"]
    return body


def _image_config(settings: dict[str, Any], model: str) -> dict[str, str]:
    config: dict[str, str] = {}
    aspect_ratio = settings.get("aspect_ratio") or "auto"
    if aspect_ratio != "auto":
        config["aspectRatio"] = str(aspect_ratio)
    if settings.get("image_size") and is_gemini_3(model):
        config["imageSize"] = str(settings["image_size"])
    return config


def is_gemini_3(model: str) -> bool:
    return model.removeprefix("models/").startswith("gemini-3")


@dataclass(frozen=True)
class GoogleError:
    """The ``{"error": {...}}`` body Google sends with every non-200 answer."""

    code: int
    status: str
    message: str
    details: list[dict[str, Any]]

    @classmethod
    def of(cls, response: requests.Response) -> GoogleError:
        error = (json_body(response) or {}).get("error")
        if not isinstance(error, dict):
            error = {}
        message = error.get("message")
        if not isinstance(message, str) or not message:
            message = f"no error message, body is {_content_type(response)}"
        return cls(
            code=response.status_code,
            status=str(error.get("status") or ""),
            message=_short(message),
            details=_dicts(error.get("details")),
        )

    @property
    def label(self) -> str:
        return f"HTTP {self.code} {self.status}".rstrip()

    @property
    def key_invalid(self) -> bool:
        reasons = {detail.get("reason") for detail in self.details}
        return "API_KEY_INVALID" in reasons or self.message.startswith("API key not valid")

    def retry_delay(self) -> float | None:
        for detail in self.details:
            if detail.get("@type") == RETRY_INFO_TYPE:
                return parse_duration(detail.get("retryDelay"))
        return None

    def daily_quota(self) -> bool:
        for detail in self.details:
            if detail.get("@type") == QUOTA_FAILURE_TYPE:
                for violation in _dicts(detail.get("violations")):
                    if "PerDay" in str(violation.get("quotaId", "")):
                        return True
        return False


def raise_for_error(response: requests.Response) -> None:
    """Classify a non-200 answer: permanent, rate-limited or transient."""
    error = GoogleError.of(response)
    if response.status_code == 429:
        raise_rate_limited(error, response)
    if response.status_code in TRANSIENT_STATUSES or response.status_code >= 500:
        raise TransientFailure(f"Gemini is unavailable ({error.label}): {error.message}")
    if error.key_invalid:
        raise ProviderRejected(f"Gemini: API key not valid ({error.label}).")
    raise ProviderRejected(f"Gemini rejected the request ({error.label}): {error.message}")


def raise_rate_limited(error: GoogleError, response: requests.Response) -> None:
    if error.daily_quota():
        raise ProviderUnavailable(
            f"Gemini's daily quota is used up ({error.label}); it resets tomorrow: {error.message}"
        )
    delay = error.retry_delay()
    if delay is None:
        delay = retry_after_header(response)
    wait = f" Gemini asked to wait {delay:.2f} s." if delay is not None else ""
    raise TransientFailure(f"Gemini rate limit ({error.label}).{wait}", retry_after=delay)


def image_from(body: dict[str, Any]) -> bytes:
    """The final image of a 200 answer, or the classified reason there is none."""
    candidates = _dicts(body.get("candidates"))
    data = _last_image_data(candidates)
    if data is not None:
        return _decoded(data)
    for candidate in candidates:
        reason = str(_get(candidate, "finishReason", "finish_reason") or "")
        if reason in BLOCKING_FINISH_REASONS:
            detail = _get(candidate, "finishMessage", "finish_message")
            suffix = f": {_short(detail)}" if isinstance(detail, str) and detail else "."
            raise ProviderBlocked(f"Gemini blocked the image ({reason}){suffix}")
    feedback = _get(body, "promptFeedback", "prompt_feedback")
    if isinstance(feedback, dict) and not candidates:
        reason = _get(feedback, "blockReason", "block_reason")
        if reason:
            raise ProviderBlocked(f"Gemini blocked the prompt or photo ({reason}).")
    raise NoImageYet(_no_image_message(candidates), retry_after=NO_IMAGE_PAUSE_SECONDS)


def _last_image_data(candidates: list[dict[str, Any]]) -> Any:
    found = None
    for candidate in candidates:
        content = candidate.get("content")
        parts = _dicts(content.get("parts")) if isinstance(content, dict) else []
        for part in parts:
            inline = _get(part, "inlineData", "inline_data")
            if isinstance(inline, dict) and not part.get("thought"):
                found = inline.get("data")
    return found


def _decoded(data: Any) -> bytes:
    try:
        image = pybase64.b64decode(data if isinstance(data, str) else "", validate=True)
    except (binascii.Error, ValueError) as error:
        raise ProviderError("Gemini sent image data that is not valid base64.") from error
    if sniff_mime(image[:16]) is None:
        raise ProviderError("Gemini sent image data that is not a JPEG, PNG or WEBP image.")
    return image


def _no_image_message(candidates: list[dict[str, Any]]) -> str:
    reasons = sorted(
        {str(_get(c, "finishReason", "finish_reason") or "no finish reason") for c in candidates}
    )
    return f"Gemini answered without an image ({', '.join(reasons) or 'no candidates'})."


class GeminiProvider:
    name = "gemini"
    calls_out = True
    works_on_pixels = False

    def __init__(
        self,
        api_key: str | None,
        base_url: str,
        http: requests.Session,
        *,
        max_answer_bytes: int = JSON_ANSWER_MAX_BYTES,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.max_answer_bytes = max_answer_bytes

    @classmethod
    def from_config(cls, config: Config, api_key: str | None, outbound: Outbound) -> GeminiProvider:
        return cls(api_key, config.gemini_api_base, outbound.http)

    def is_configured(self) -> bool:
        return bool(self.api_key)

    def model_of(self, settings: dict[str, Any]) -> str | None:
        return str(settings.get("model") or DEFAULT_MODEL)

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.api_key or "", "Content-Type": "application/json"}

    def process(self, request: ProviderRequest) -> ProviderResult:
        if not self.api_key:
            raise ProviderNotConfigured("Gemini has no API key.")
        model = str(self.model_of(request.settings)).removeprefix("models/")
        url = f"{self.base_url}/v1beta/models/{quote(model, safe='')}:generateContent"
        body = encode_body(request, model)
        no_image_answers = 0
        answer_cpu_seconds = 0.0

        def attempt() -> bytes:
            nonlocal no_image_answers, answer_cpu_seconds
            response = send(
                self.http,
                "POST",
                url,
                service=self.name,
                deadline=request.deadline,
                max_bytes=self.max_answer_bytes,
                headers=self._headers(),
                data=body,
            )
            answer_started = time.thread_time()
            try:
                return self._image_of(response)
            except NoImageYet as failure:
                no_image_answers += 1
                if no_image_answers >= MAX_NO_IMAGE_ANSWERS:
                    raise ProviderNoImage(
                        f"{failure.message} Gave up after {no_image_answers} answers."
                    ) from failure
                raise
            finally:
                answer_cpu_seconds = time.thread_time() - answer_started

        try:
            data = provider_call(attempt, provider=self.name, deadline=request.deadline)
        except ProviderUnavailable as error:
            if isinstance(error.__cause__, NoImageYet):
                raise ProviderNoImage(error.message) from error
            raise
        return ProviderResult(data=data, answer_cpu_seconds=answer_cpu_seconds)

    @staticmethod
    def _image_of(response: requests.Response) -> bytes:
        if response.status_code != 200:
            raise_for_error(response)
        body = json_body(response)
        if body is None:
            raise ProviderError(
                f"Gemini answered HTTP 200 with a body that is not a JSON object"
                f" ({_content_type(response)}); check GEMINI_API_BASE and any proxy."
            )
        return image_from(body)

    def check_key(self, deadline: Deadline) -> KeyCheck:
        """List one model: 200 means the key is accepted (429 too: Google had to know it)."""
        if not self.api_key:
            return KeyCheck.MISSING
        try:
            response = send(
                self.http,
                "GET",
                f"{self.base_url}/v1beta/models",
                service=self.name,
                deadline=deadline,
                max_bytes=SMALL_ANSWER_MAX_BYTES,
                headers={"x-goog-api-key": self.api_key},
                params={"pageSize": 1},
            )
        except OutboundError:
            return KeyCheck.UNREACHABLE
        if response.status_code in (200, 429):
            return KeyCheck.OK
        if response.status_code in (400, 401, 403):
            return KeyCheck.INVALID
        return KeyCheck.UNREACHABLE
