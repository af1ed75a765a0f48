"""A loopback OpenAI Images API: a real HTTP server on 127.0.0.1 for tests.

``POST /v1/images/edits`` checks the Bearer key, parses the multipart body the way the API reads
it (file parts named ``image`` or ``image[]``, each text field once), refuses what the real API
refuses with its error bodies, records every accepted request and answers with the next scripted
answer — by default an image in the requested ``output_format``, as a ``b64_json`` item with the
real API's usage block. ``GET /v1/models`` checks the key too. Every answer carries an
``x-request-id`` header.
"""

from tests.support.fakes.openai.answers import (
    body_answer,
    edit_body,
    error_answer,
    image_answer,
    insufficient_quota,
    moderation_blocked,
    rate_limited,
    raw_answer,
    server_error,
    small_image,
)
from tests.support.fakes.openai.server import API_KEY, FakeOpenAI, running_fake

__all__ = [
    "API_KEY",
    "FakeOpenAI",
    "body_answer",
    "edit_body",
    "error_answer",
    "image_answer",
    "insufficient_quota",
    "moderation_blocked",
    "rate_limited",
    "raw_answer",
    "running_fake",
    "server_error",
    "small_image",
]
