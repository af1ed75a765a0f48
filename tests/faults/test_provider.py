"""A booth request whose provider misbehaves ends by its 10 s deadline with the matching error,
its job row finished and nothing left on the media volume.

The fake Gemini API hanging or dripping its body is covered in
tests/providers/gemini/test_ingest.py; here the provider is also a raw socket that breaks HTTP
itself (silence, a dripped head, non-HTTP bytes, endless or oversized bodies).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session

from app.config import Config
from app.settings.service import save_settings
from tests.support.fakes.gemini import (
    API_KEY,
    GeminiFake,
    Reply,
    html_reply,
    image_reply,
    json_reply,
    text_only_reply,
)
from tests.support.faults import assert_nothing_left
from tests.support.gemini_driver import PROMPT
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.misbehaving import Behaviour, MisbehavingServer
from tests.support.stored import use_provider

DEADLINE_SECONDS = 10
SLACK_SECONDS = 1.5


@pytest.fixture
def behaviour() -> Behaviour | None:
    """None: the fake Gemini API answers; else the raw socket server misbehaves this way."""
    return None


@pytest.fixture
def provider_url(gemini: GeminiFake, behaviour: Behaviour | None) -> Iterator[str]:
    if behaviour is None:
        yield gemini.base_url
        return
    server = MisbehavingServer(behaviour)
    yield server.url
    server.stop()
    assert server.connections >= 1


@pytest.fixture
def config(make_config: Callable[..., Config], provider_url: str) -> Config:
    return make_config(gemini_api_key=API_KEY, gemini_api_base=provider_url)


@pytest.fixture
def booth(live_server, http, jpeg, db_session: Session, config: Config):
    """Post one photo to a Gemini slot with a 10 s deadline; the answer and its duration."""
    save_settings(db_session, config, {"sync_response_seconds": DEADLINE_SECONDS}, "tests")
    use_provider(db_session, "gemini", {"model": "gemini-2.5-flash-image", "prompt": PROMPT})

    def post():
        started = time.monotonic()
        response = post_photo(http, ingest_url(live_server.url), jpeg, timeout=DEADLINE_SECONDS + 5)
        return response, time.monotonic() - started

    return post


@pytest.mark.parametrize(
    "behaviour",
    [
        "silent",
        "dripping_head",
    ],
)
def test_provider_silent_or_dripping_its_head_is_504_timeout_at_the_deadline(
    booth, db_session, media_root, behaviour
):
    response, seconds = booth()
    body = assert_error(response, 504, "timeout")
    assert DEADLINE_SECONDS - SLACK_SECONDS <= seconds <= DEADLINE_SECONDS + SLACK_SECONDS
    [job] = assert_nothing_left(db_session, media_root)
    assert (job.id, job.status, job.failure_reason) == (body["job_id"], "timeout", "timeout")


@pytest.mark.parametrize("behaviour", ["endless", "huge_declared"])
def test_provider_answer_over_the_size_cap_is_502_provider_error_without_waiting(
    booth, db_session, media_root, behaviour
):
    response, seconds = booth()
    assert_error(response, 502, "provider_error")
    assert seconds < DEADLINE_SECONDS - SLACK_SECONDS
    [job] = assert_nothing_left(db_session, media_root)
    assert (job.status, job.failure_reason) == ("failed", "provider_error")


@pytest.mark.parametrize("behaviour", ["garbage"])
def test_provider_answering_non_http_bytes_is_503_provider_unavailable_by_the_deadline(
    booth, db_session, media_root
):
    response, seconds = booth()
    assert_error(response, 503, "provider_unavailable")
    assert seconds <= DEADLINE_SECONDS + SLACK_SECONDS
    [job] = assert_nothing_left(db_session, media_root)
    assert (job.status, job.failure_reason) == ("failed", "provider_unavailable")


GARBAGE_IMAGE = json_reply(
    {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"inlineData": {"mimeType": "image/png", "data": "bm90IGFuIGltYWdl"}}
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
            }
        ]
    }
)
"""Valid base64 whose bytes are not an image."""


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(200, os.urandom(4096), "application/json"), id="binary-garbage"),
        pytest.param(Reply(200, b'{"candidates": [', "application/json"), id="truncated-json"),
        pytest.param(Reply(200, b"[1, 2, 3]", "application/json"), id="json-not-an-object"),
        pytest.param(html_reply(200), id="html-page"),
        pytest.param(GARBAGE_IMAGE, id="image-not-an-image"),
    ],
)
def test_provider_answering_garbage_is_502_provider_error_at_once(
    booth, gemini, db_session, media_root, reply
):
    gemini.script(reply)
    response, seconds = booth()
    assert_error(response, 502, "provider_error")
    assert seconds < DEADLINE_SECONDS - SLACK_SECONDS
    [job] = assert_nothing_left(db_session, media_root)
    assert (job.status, job.failure_reason) == ("failed", "provider_error")


BROKEN_PNG = image_reply(base64.b64decode("iVBORw0KGgo=") + os.urandom(200))
"""An image that starts like a PNG and then is noise: it cannot be decoded."""


@pytest.mark.parametrize(
    "reply",
    [pytest.param(text_only_reply(), id="text-only"), pytest.param(BROKEN_PNG, id="broken-png")],
)
def test_provider_answering_without_a_usable_image_is_502_provider_no_image(
    booth, gemini, db_session, media_root, reply
):
    gemini.script(reply)
    response, seconds = booth()
    assert_error(response, 502, "provider_no_image")
    assert seconds <= DEADLINE_SECONDS + SLACK_SECONDS
    [job] = assert_nothing_left(db_session, media_root)
    assert (job.status, job.failure_reason) == ("failed", "provider_no_image")
