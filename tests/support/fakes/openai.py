"""A loopback OpenAI Images API: a real HTTP server on 127.0.0.1 for tests.

``POST /v1/images/edits`` checks the Bearer key, parses the multipart body the way the API reads
it (file parts named ``image`` or ``image[]``, each text field once), refuses what the real API
refuses with its error bodies, records every accepted request and answers with the next scripted
answer — by default an image in the requested ``output_format``, in the shape of the fixture
``openai_images_edit_response.json``. ``GET /v1/models`` checks the key too. Every answer carries
an ``x-request-id`` header.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

API_KEY = "sk-test-openai-fake-9f2c"
GPT_IMAGE_MODELS = (
    "gpt-image-1",
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "chatgpt-image-latest",
)
TEXT_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "size",
        "quality",
        "output_format",
        "output_compression",
        "background",
        "input_fidelity",
        "n",
        "user",
        "stream",
        "partial_images",
    }
)
IMAGE_FIELDS = ("image", "image[]")
SIZES = frozenset({"auto", "1024x1024", "1536x1024", "1024x1536"})
QUALITIES = frozenset({"low", "medium", "high", "auto"})
OUTPUT_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
MAX_IMAGES = 16
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MAX_PROMPT = 32000
_request_ids = itertools.count(1)


@dataclass(frozen=True)
class UploadedImage:
    field_name: str
    filename: str
    content_type: str
    data: bytes

    @property
    def sniffed(self) -> str | None:
        """The format by the bytes, whatever the part declared."""
        if self.data.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        if self.data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png"
        if self.data[:4] == b"RIFF" and self.data[8:12] == b"WEBP":
            return "webp"
        return None


@dataclass(frozen=True)
class EditRequest:
    """One accepted ``images/edits`` request, as the fake parsed it."""

    headers: dict[str, str]
    fields: dict[str, str]
    images: list[UploadedImage]
    body_bytes: int


Answer = Callable[[EditRequest], Response]


class Refused(Exception):
    """Ends a request with an OpenAI error body."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status, mimetype="application/json")
    response.headers["x-request-id"] = f"req_fake{next(_request_ids):06d}"
    response.headers.update(headers or {})
    return response


def error_response(
    status: int,
    message: str,
    error_type: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error = {"message": message, "type": error_type, "param": param, "code": code}
    return json_response(status, {"error": error}, headers)


def invalid(message: str, param: str | None, code: str | None = "invalid_value") -> Refused:
    return Refused(error_response(400, message, "invalid_request_error", code, param))


def small_image(output_format: str = "png", size: tuple[int, int] = (48, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 140, 90)).save(out, OUTPUT_FORMATS[output_format])
    return out.getvalue()


def edit_body(b64_json: str | None, request: EditRequest | None = None) -> dict[str, Any]:
    """The 200 body of ``/v1/images/edits``; ``b64_json=None`` leaves the key out."""
    fields = request.fields if request else {}
    item = {} if b64_json is None else {"b64_json": b64_json}
    return {
        "created": 1787390000,
        "background": "opaque",
        "data": [item],
        "output_format": fields.get("output_format", "png"),
        "quality": "medium" if fields.get("quality", "auto") == "auto" else fields["quality"],
        "size": "1024x1024" if fields.get("size", "auto") == "auto" else fields["size"],
        "usage": {
            "input_tokens": 388,
            "input_tokens_details": {"image_tokens": 323, "text_tokens": 65},
            "output_tokens": 1056,
            "output_tokens_details": {"image_tokens": 1056, "text_tokens": 0},
            "total_tokens": 1444,
        },
    }


def image_answer(data: bytes | None = None) -> Answer:
    """200 with ``data`` (default: a small image in the requested ``output_format``)."""

    def answer(request: EditRequest) -> Response:
        image = (
            data if data is not None else small_image(request.fields.get("output_format", "png"))
        )
        return json_response(200, edit_body(base64.b64encode(image).decode(), request))

    return answer


def body_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return lambda request: json_response(status, body, headers)


def raw_answer(status: int, text: str, content_type: str = "text/html") -> Answer:
    return lambda request: Response(text, status, content_type=content_type)


def error_answer(
    status: int,
    message: str,
    error_type: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    return lambda request: error_response(status, message, error_type, code, param, headers)


def moderation_blocked() -> Answer:
    return error_answer(
        400,
        "Your request was rejected by the safety system. If you believe this is an error, "
        "contact us at help.openai.com and include the request ID req_abc. "
        "safety_violations=[sexual].",
        "image_generation_user_error",
        "moderation_blocked",
    )


def rate_limited(headers: dict[str, str] | None = None) -> Answer:
    return error_answer(
        429,
        "Rate limit reached for gpt-image-1.5 on images per minute (IPM): Limit 5, Used 5.",
        "requests",
        "rate_limit_exceeded",
        headers=headers,
    )


def insufficient_quota() -> Answer:
    return error_answer(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "insufficient_quota",
    )


def server_error(status: int = 500, headers: dict[str, str] | None = None) -> Answer:
    return error_answer(
        status,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        headers=headers,
    )


def wrong_key_response(given: str) -> Response:
    masked = f"{given[:3]}***{given[-4:]}" if len(given) > 8 else "***"
    return error_response(
        401,
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    )


@dataclass
class FakeOpenAI:
    api_key: str = API_KEY
    edits: list[EditRequest] = field(default_factory=list)
    models_calls: int = 0
    default_answer: Answer = field(default_factory=image_answer)
    _answers: deque[Answer] = field(default_factory=deque)
    _released: threading.Event = field(default_factory=threading.Event)
    _server: BaseWSGIServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def then(self, *answers: Answer) -> FakeOpenAI:
        """Queue answers for the next accepted edits; the default answer follows them."""
        self._answers.extend(answers)
        return self

    def always(self, answer: Answer) -> FakeOpenAI:
        self.default_answer = answer
        return self

    def hang(self, seconds: float = 60) -> Answer:
        """Answer nothing for ``seconds`` (or until the fake stops), then a late image."""

        def answer(request: EditRequest) -> Response:
            self._released.wait(seconds)
            return image_answer()(request)

        return answer

    def start(self) -> FakeOpenAI:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except Refused as refused:
            response = refused.response
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path == "/v1/images/edits" and request.method == "POST":
            return self._edit(request)
        if request.path == "/v1/models" and request.method == "GET":
            self._authorize(request)
            self.models_calls += 1
            models = [{"id": m, "object": "model", "owned_by": "system"} for m in GPT_IMAGE_MODELS]
            return json_response(200, {"object": "list", "data": models})
        return error_response(
            404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error"
        )

    def _edit(self, request: Request) -> Response:
        self._authorize(request)
        edit = parse_edit(request)
        validate_edit(edit)
        self.edits.append(edit)
        answer = self._answers.popleft() if self._answers else self.default_answer
        return answer(edit)

    def _authorize(self, request: Request) -> None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not given:
            raise Refused(
                error_response(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                )
            )
        if given != self.api_key:
            raise Refused(wrong_key_response(given))


def parse_edit(request: Request) -> EditRequest:
    if request.mimetype != "multipart/form-data":
        raise invalid(
            f"Invalid Content-Type header ({request.mimetype}), expected multipart/form-data.",
            None,
            None,
        )
    fields: dict[str, str] = {}
    for name, values in request.form.lists():
        if name in IMAGE_FIELDS:
            raise invalid(f"'{name}' must be a file upload.", name)
        if name not in TEXT_FIELDS:
            raise invalid(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        if len(values) != 1:
            raise invalid(f"Parameter '{name}' was given more than once.", name)
        fields[name] = values[0]
    images: list[UploadedImage] = []
    for name, parts in request.files.lists():
        if name not in IMAGE_FIELDS:
            raise invalid(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        images.extend(_uploaded(name, part) for part in parts)
    return EditRequest(dict(request.headers), fields, images, request.content_length or 0)


def _uploaded(name: str, part: FileStorage) -> UploadedImage:
    return UploadedImage(name, part.filename or "", part.content_type or "", part.read())


def validate_edit(edit: EditRequest) -> None:
    """What the API refuses before generating; models are required here, as we always
    send one."""
    fields = edit.fields
    model = fields.get("model", "")
    if not model:
        raise invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if model not in GPT_IMAGE_MODELS:
        raise invalid(f"Invalid value: '{model}'. Value must be a known image model.", "model")
    prompt = fields.get("prompt", "")
    if not prompt:
        raise invalid(
            "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
        )
    if len(prompt) > MAX_PROMPT:
        raise invalid(
            f"'prompt' is longer than {MAX_PROMPT} characters.", "prompt", "string_above_max_length"
        )
    _validate_images(edit.images)
    _validate_choice(fields, "size", SIZES)
    _validate_choice(fields, "quality", QUALITIES)
    _validate_choice(fields, "output_format", frozenset(OUTPUT_FORMATS))
    _validate_choice(fields, "input_fidelity", frozenset({"high", "low"}))
    if "input_fidelity" in fields and model == "gpt-image-1-mini":
        raise invalid(f"input_fidelity is not supported for {model}.", "input_fidelity")


def _validate_images(images: list[UploadedImage]) -> None:
    if not images:
        raise invalid("Missing required parameter: 'image'.", "image", "missing_required_parameter")
    if len(images) > MAX_IMAGES:
        raise invalid(f"At most {MAX_IMAGES} images may be given.", "image")
    for image in images:
        if image.sniffed is None or len(image.data) >= MAX_IMAGE_BYTES:
            raise invalid(
                f"Invalid image file '{image.filename}': must be a png, webp or jpg under 50MB.",
                "image",
                "invalid_image_file",
            )


def _validate_choice(fields: dict[str, str], name: str, allowed: frozenset[str]) -> None:
    if name in fields and fields[name] not in allowed:
        raise invalid(
            f"Invalid value: '{fields[name]}'. Supported values are: "
            + ", ".join(f"'{value}'" for value in sorted(allowed))
            + ".",
            name,
        )


@contextmanager
def running_fake(api_key: str = API_KEY) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(api_key).start()
    try:
        yield fake
    finally:
        fake.stop()
