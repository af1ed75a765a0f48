"""Scripted answers of the fake OpenAI Images API, in the shapes the real API sends."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PIL import Image
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    pass
from tests.support.fakes.openai.contract import (
    OUTPUT_FORMATS,
    EditRequest,
    error_response,
    json_response,
)

Answer = Callable[[EditRequest], Response]


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
