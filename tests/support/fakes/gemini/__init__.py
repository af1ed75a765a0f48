"""A fake Gemini API as pytest-httpserver handlers.

``POST /v1beta/models/{model}:generateContent`` is checked the way the API reads it, and as our
driver promises to send it: the literal colon in the path, the ``x-goog-api-key`` header (a key in
the URL is a violation), one user turn whose parts are images first (each valid base64 of a JPEG)
and the text prompt last, ``generationConfig`` with the documented enums. A wrong key gets the
real 400 ``API_KEY_INVALID`` body; a malformed request gets 400 ``INVALID_ARGUMENT`` and is
recorded in ``problems`` (the test fixture fails on any). Accepted requests are recorded in
``calls`` and answered with the next scripted ``Reply`` — by default Gemini's usual answer, a text
part and then the image. ``GET /v1beta/models`` (key check) answers a one-model page.
"""

from tests.support.fakes.gemini.replies import (
    API_KEY,
    HANG,
    Reply,
    candidates_reply,
    deadline_exceeded_reply,
    dripping,
    error_reply,
    html_reply,
    image_blocked_reply,
    image_reply,
    internal_reply,
    json_reply,
    no_image_reply,
    overloaded_reply,
    prompt_blocked_reply,
    rate_limited_reply,
    snake_case_image_reply,
    text_only_reply,
    thought_image_reply,
    thoughts_only_reply,
    unknown_model_reply,
)
from tests.support.fakes.gemini.server import LIST_PATH, GeminiFake

__all__ = [
    "API_KEY",
    "HANG",
    "LIST_PATH",
    "GeminiFake",
    "Reply",
    "candidates_reply",
    "deadline_exceeded_reply",
    "dripping",
    "error_reply",
    "html_reply",
    "image_blocked_reply",
    "image_reply",
    "internal_reply",
    "json_reply",
    "no_image_reply",
    "overloaded_reply",
    "prompt_blocked_reply",
    "rate_limited_reply",
    "snake_case_image_reply",
    "text_only_reply",
    "thought_image_reply",
    "thoughts_only_reply",
    "unknown_model_reply",
]
