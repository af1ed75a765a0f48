"""A fake Gemini API as pytest-httpserver handlers.

``POST /v1beta/models/{model}:generateContent`` is checked the way the API and our contract read
it: the literal colon in the path, the ``x-goog-api-key`` header (a key in the URL is a contract
violation), one user turn whose parts are images first (each valid base64 of a JPEG) and the text
prompt last, ``generationConfig`` with the documented enums. A wrong key gets the real 400
``API_KEY_INVALID`` body; a malformed request gets 400 ``INVALID_ARGUMENT`` and is recorded in
``problems`` (the test fixture fails on any). Accepted requests are recorded in ``calls`` and
answered with the next scripted ``Reply`` — by default the shape of the fixture
``gemini_image_response.json``. ``GET /v1beta/models`` (key check) answers a one-model page.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "AIzaSyFAKE-gemini-test-key-0042"
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC"
)
"""``png_1x1_rgb`` of fixtures/tiny_images.json: the image in gemini_image_response.json."""
JSON_TYPE = "application/json; charset=UTF-8"
GENERATE_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")
LIST_PATH = "/v1beta/models"
ASPECT_RATIOS = frozenset({"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"})
IMAGE_SIZES = frozenset({"1K", "2K", "4K"})
INPUT_MIMES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
MODALITIES = frozenset({"TEXT", "IMAGE"})
HANG_LIMIT_SECONDS = 60.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    hang: bool = False
    drip_seconds: float | None = None
    """Send the headers at once, then the body one byte per ``drip_seconds``."""


HANG = Reply(0, b"", hang=True)
"""Never answer (until the test ends)."""


def dripping(reply: Reply, seconds: float = 0.5) -> Reply:
    """``reply`` with its body sent one byte every ``seconds`` (until the test ends)."""
    return Reply(reply.status, reply.body, reply.content_type, drip_seconds=seconds)


def json_reply(body: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status, json.dumps(body).encode())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _usage() -> dict[str, Any]:
    return {
        "promptTokenCount": 1302,
        "candidatesTokenCount": 1290,
        "totalTokenCount": 2592,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 44},
            {"modality": "IMAGE", "tokenCount": 1258},
        ],
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}],
    }


def response_body(*candidates: dict[str, Any], model: str = "gemini-2.5-flash-image") -> Any:
    return {
        "candidates": list(candidates),
        "usageMetadata": _usage(),
        "modelVersion": model,
        "responseId": "deO6aLeTE4fYvdIPuIm_kQQ",
    }


def candidate(*parts: dict[str, Any], finish_reason: str = "STOP", index: int = 0) -> Any:
    return {
        "content": {"parts": list(parts), "role": "model"},
        "finishReason": finish_reason,
        "index": index,
    }


def text_part(text: str = "Here is the photo with a sunny beach background.") -> Any:
    return {"text": text}


def image_part(data: bytes = PNG_1X1, mime: str = "image/png", **extra: Any) -> Any:
    return {"inlineData": {"mimeType": mime, "data": _b64(data)}, **extra}


def image_reply(data: bytes = PNG_1X1, mime: str = "image/png") -> Reply:
    """The fixture gemini_image_response.json: a text part, then the image."""
    return json_reply(response_body(candidate(text_part(), image_part(data, mime))))


def thought_image_reply(drafts: list[bytes], final: bytes) -> Reply:
    """Gemini 3 thinking: draft images marked ``thought``, then the signed final image."""
    parts = [text_part("Planning the composition."), *(image_part(d, thought=True) for d in drafts)]
    parts.append(image_part(final, thoughtSignature="Cq8BAY89a1/sig"))
    return json_reply(response_body(candidate(*parts), model="gemini-3-pro-image-preview"))


def snake_case_image_reply(data: bytes = PNG_1X1) -> Reply:
    part = {"inline_data": {"mime_type": "image/png", "data": _b64(data)}}
    body = {
        "candidates": [{"content": {"parts": [part], "role": "model"}, "finish_reason": "STOP"}]
    }
    return json_reply(body)


def candidates_reply(first: bytes, last: bytes) -> Reply:
    return json_reply(
        response_body(candidate(image_part(first)), candidate(image_part(last), index=1))
    )


def text_only_reply(text: str = "I can't edit this photo, but here is a description.") -> Reply:
    return json_reply(response_body(candidate(text_part(text))))


def thoughts_only_reply(draft: bytes = PNG_1X1) -> Reply:
    return json_reply(response_body(candidate(image_part(draft, thought=True))))


def no_image_reply() -> Reply:
    return json_reply(response_body(candidate(text_part("No image."), finish_reason="NO_IMAGE")))


def image_blocked_reply(reason: str = "IMAGE_SAFETY") -> Reply:
    """An output image withheld: the candidate has no ``content`` key at all."""
    return json_reply(response_body({"finishReason": reason, "index": 0}))


def prompt_blocked_reply(reason: str = "PROHIBITED_CONTENT") -> Reply:
    return json_reply({"promptFeedback": {"blockReason": reason}, "usageMetadata": _usage()})


def error_reply(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> Reply:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return json_reply({"error": error}, code)


def api_key_invalid_reply() -> Reply:
    return error_reply(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    )


def rate_limited_reply(
    retry_delay: str | None = "45.837906927s",
    quota_id: str = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
) -> Reply:
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_requests_per_model",
                    "quotaId": quota_id,
                    "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash-image"},
                    "quotaValue": "10",
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Learn more",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
    ]
    if retry_delay is not None:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        )
    return error_reply(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        details,
    )


def internal_reply() -> Reply:
    return error_reply(500, "INTERNAL", "An internal error has occurred. Please retry.")


def overloaded_reply() -> Reply:
    return error_reply(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def deadline_exceeded_reply() -> Reply:
    return error_reply(
        504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."
    )


def unknown_model_reply(model: str) -> Reply:
    return error_reply(
        404,
        "NOT_FOUND",
        f"models/{model} is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models.",
    )


def html_reply(status: int) -> Reply:
    page = f"<html><head><title>{status}</title></head><body>Server Error {status}</body></html>"
    return Reply(status, page.encode(), "text/html; charset=UTF-8")


def models_page_reply() -> Reply:
    model = {
        "name": "models/gemini-2.5-flash-image",
        "displayName": "Nano Banana",
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }
    return json_reply({"models": [model], "nextPageToken": "Ch5tb2RlbHMvZ2VtaW5p"})


@dataclass
class Call:
    """One request the fake accepted."""

    method: str
    path: str
    raw_uri: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def model(self) -> str | None:
        match = GENERATE_PATH.match(self.path)
        return match["model"] if match else None

    @property
    def parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = self.body["contents"][0]["parts"]
        return parts

    @property
    def images(self) -> list[bytes]:
        """The decoded input images, in the order they were sent."""
        return [base64.b64decode(_inline(part)["data"]) for part in self.parts if _inline(part)]

    @property
    def prompt(self) -> str:
        text: str = self.parts[-1]["text"]
        return text


def _inline(part: dict[str, Any]) -> dict[str, Any]:
    inline: dict[str, Any] = part.get("inlineData") or part.get("inline_data") or {}
    return inline


class Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class GeminiFake:
    def __init__(self, server: HTTPServer, api_key: str = API_KEY) -> None:
        self.server = server
        self.api_key = api_key
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        server.expect_request(re.compile(r"^/v1beta/models.*")).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def script(self, *replies: Reply) -> GeminiFake:
        """Answer with these in order; the last one repeats."""
        self._replies = list(replies)
        return self

    def release(self) -> None:
        """Let every hanging answer finish (the test is over)."""
        self._released.set()

    @property
    def generate_calls(self) -> list[Call]:
        return [call for call in self.calls if call.model]

    def handle(self, request: Request) -> Response:
        try:
            call = self._accept(request)
        except Refused as refused:
            return _response(refused.reply)
        with self._lock:
            self.calls.append(call)
            reply = self._next(call)
        if reply.hang:
            self._released.wait(HANG_LIMIT_SECONDS)
            return _response(overloaded_reply())
        if reply.drip_seconds is not None:
            return self._dripped(reply, reply.drip_seconds)
        return _response(reply)

    def _dripped(self, reply: Reply, seconds: float) -> Response:
        def body() -> Iterator[bytes]:
            for index in range(len(reply.body)):
                if self._released.wait(seconds):
                    return
                yield reply.body[index : index + 1]

        response = Response(body(), status=reply.status, content_type=reply.content_type)
        response.headers["Content-Length"] = str(len(reply.body))
        return response

    def _next(self, call: Call) -> Reply:
        if not self._replies:
            return image_reply() if call.model else models_page_reply()
        return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def _accept(self, request: Request) -> Call:
        raw_uri = str(request.environ.get("RAW_URI", request.full_path))
        self._check(_key_in_url_problems(request))
        self._authorize(request)
        if request.path == LIST_PATH:
            self._check([] if request.method == "GET" else [f"{request.method} {LIST_PATH}"])
            return _call(request, raw_uri, {})
        match = GENERATE_PATH.match(request.path)
        if match is None or request.method != "POST" or ":generateContent" not in raw_uri:
            self._check([f"not a generateContent call: {request.method} {raw_uri}"])
        assert match is not None
        body = self._json_body(request)
        self._check(body_problems(body, match["model"]))
        return _call(request, raw_uri, body)

    def _authorize(self, request: Request) -> None:
        given = request.headers.get("x-goog-api-key") or request.args.get("key")
        if not given:
            raise Refused(
                error_reply(
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established "
                    "identity). Please use API Key or other form of API consumer identity to "
                    "call this API.",
                )
            )
        if given != self.api_key:
            raise Refused(api_key_invalid_reply())

    def _json_body(self, request: Request) -> dict[str, Any]:
        if request.mimetype != "application/json":
            self._check([f"Content-Type is {request.content_type!r}, not application/json"])
        try:
            body = json.loads(request.get_data())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._check(["Invalid JSON payload received."])
        assert isinstance(body, dict)
        return body

    def _check(self, problems: list[str]) -> None:
        if problems:
            with self._lock:
                self.problems.extend(problems)
            raise Refused(error_reply(400, "INVALID_ARGUMENT", "fake: " + "; ".join(problems)))


def _response(reply: Reply) -> Response:
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


def _call(request: Request, raw_uri: str, body: dict[str, Any]) -> Call:
    return Call(
        method=request.method,
        path=request.path,
        raw_uri=raw_uri,
        query=dict(request.args),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
    )


def _key_in_url_problems(request: Request) -> list[str]:
    return ["the API key was sent in the URL"] if "key" in request.args else []


def body_problems(body: dict[str, Any], model: str) -> list[str]:
    """What the API (or our contract) refuses in a generateContent body."""
    problems = [f"unknown field {name!r}" for name in body if name not in TOP_LEVEL]
    for name, check in TOP_LEVEL.items():
        if name in body:
            problems += check(body[name], model)
        elif name == "contents":
            problems.append("contents is required")
    return problems


def _contents_problems(contents: Any, model: str) -> list[str]:
    if not isinstance(contents, list) or len(contents) != 1 or not isinstance(contents[0], dict):
        return ["contents must be exactly one turn"]
    turn = contents[0]
    if turn.get("role") != "user" or set(turn) != {"role", "parts"}:
        return ["the turn must be {'role': 'user', 'parts': [...]}"]
    parts = turn["parts"]
    if not isinstance(parts, list) or len(parts) < 2:
        return ["parts must hold at least one image and the prompt"]
    problems = [p for part in parts[:-1] for p in _image_part_problems(part)]
    last = parts[-1]
    if not (isinstance(last, dict) and set(last) == {"text"} and isinstance(last["text"], str)):
        problems.append("the last part must be the text prompt")
    elif not last["text"].strip():
        problems.append("the prompt is empty")
    return problems


def _image_part_problems(part: Any) -> list[str]:
    if not isinstance(part, dict) or len(part) != 1 or not _inline(part):
        return ["every part before the prompt must be exactly one inline image"]
    inline = _inline(part)
    mime = inline.get("mimeType", inline.get("mime_type"))
    if set(inline) - {"mimeType", "mime_type", "data"} or mime not in INPUT_MIMES:
        return [f"bad inline data fields or mime type {mime!r}"]
    try:
        data = base64.b64decode(inline.get("data", ""), validate=True)
    except (binascii.Error, ValueError):
        return ["inline data is not standard base64"]
    return _jpeg_problems(data) if mime == "image/jpeg" else []


def _jpeg_problems(data: bytes) -> list[str]:
    if not data.startswith(b"\xff\xd8\xff"):
        return ["inline data declared image/jpeg is not a JPEG"]
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            image.load()
    except (OSError, SyntaxError, ValueError):
        return ["inline JPEG does not decode"]
    return []


def _generation_problems(config: Any, model: str) -> list[str]:
    if not isinstance(config, dict):
        return ["generationConfig must be an object"]
    problems = [
        f"unknown generationConfig field {name!r}"
        for name in config
        if name not in {"responseModalities", "imageConfig"}
    ]
    modalities = config.get("responseModalities")
    if not isinstance(modalities, list) or not {str(m).upper() for m in modalities} <= MODALITIES:
        problems.append(f"bad responseModalities {modalities!r}")
    if "imageConfig" in config:
        problems += _image_config_problems(config["imageConfig"], model)
    return problems


def _image_config_problems(config: Any, model: str) -> list[str]:
    if not isinstance(config, dict) or set(config) - {"aspectRatio", "imageSize"}:
        return [f"bad imageConfig {config!r}"]
    problems = []
    if "aspectRatio" in config and config["aspectRatio"] not in ASPECT_RATIOS:
        problems.append(f"bad aspectRatio {config['aspectRatio']!r}")
    if "imageSize" in config:
        if config["imageSize"] not in IMAGE_SIZES:
            problems.append(f"bad imageSize {config['imageSize']!r} (uppercase K required)")
        if not model.startswith("gemini-3"):
            problems.append(f"imageSize sent to {model}, which only makes ~1 MP images")
    return problems


def _safety_problems(settings: Any, model: str) -> list[str]:
    valid = isinstance(settings, list) and all(
        isinstance(s, dict) and set(s) == {"category", "threshold"} for s in settings
    )
    return [] if valid else [f"bad safetySettings {settings!r}"]


TOP_LEVEL: dict[str, Callable[[Any, str], list[str]]] = {
    "contents": _contents_problems,
    "generationConfig": _generation_problems,
    "safetySettings": _safety_problems,
}
