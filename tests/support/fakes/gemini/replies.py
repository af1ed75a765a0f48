"""Scripted answers of the fake Gemini API, in the shapes the real API sends: images (with
thought drafts, in snake_case, across candidates), answers without an image, and errors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

API_KEY = "AIzaSyFAKE-gemini-test-key-0042"
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC"
)
"""A 1x1 RGB PNG: the image of the default answer."""


JSON_TYPE = "application/json; charset=UTF-8"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    hang: bool = False
    drip_seconds: float | None = None
    """Send the headers at once, then the body one byte per ``drip_seconds``."""
    delay_seconds: float = 0.0
    """Think this long before answering, like a real image model."""


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
    """Gemini's usual image answer: a text part, then the image."""
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
