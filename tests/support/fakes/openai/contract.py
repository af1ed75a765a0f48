"""What the fake OpenAI Images API accepts in ``POST /v1/images/edits``, parsed the way the
real API reads a multipart body, and its JSON error bodies for what it refuses."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    pass


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
