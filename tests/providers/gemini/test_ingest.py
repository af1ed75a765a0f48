"""Booth photos processed by Gemini through the real ingest route."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from app.config import Config
from app.db import utcnow
from app.ingest.models import Job
from app.settings.service import save_settings
from tests.support.fakes.gemini import (
    API_KEY,
    HANG,
    GeminiFake,
    dripping,
    image_blocked_reply,
    image_reply,
    overloaded_reply,
    rate_limited_reply,
)
from tests.support.gemini_driver import PROMPT, png, size_of
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.stored import files_under, only_job, use_provider


@pytest.fixture
def gemini_key() -> str | None:
    return API_KEY


@pytest.fixture
def config(
    make_config: Callable[..., Config], gemini: GeminiFake, gemini_key: str | None
) -> Config:
    return make_config(gemini_api_key=gemini_key, gemini_api_base=gemini.base_url)


def use_gemini(db_session: Session, **settings: Any) -> None:
    use_provider(
        db_session, "gemini", {"model": "gemini-2.5-flash-image", "prompt": PROMPT, **settings}
    )


def test_booth_photo_comes_back_as_the_gemini_image_in_the_booths_format(
    live_server, http, jpeg, db_session, gemini
):
    use_gemini(db_session, aspect_ratio="4:3")
    gemini.script(image_reply(png(160, 120)))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/jpeg"
    assert size_of(response.content) == (160, 120)
    job = only_job(db_session)
    assert (job.id, job.status) == (response.headers["X-Job-Id"], "done")
    assert (job.provider, job.model) == ("gemini", "gemini-2.5-flash-image")
    assert job.provider_ms is not None
    [call] = gemini.calls
    assert call.body["generationConfig"]["imageConfig"] == {"aspectRatio": "4:3"}


def test_12_megapixel_photo_reaches_gemini_downscaled_under_1_mb(
    live_server, http, db_session, gemini
):
    use_gemini(db_session)
    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    photo = Image.blend(Image.merge("RGB", [gradient, gradient, gradient]), noise, 0.1)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92)
    assert len(out.getvalue()) > 3_000_000
    response = post_photo(http, ingest_url(live_server.url), out.getvalue())
    assert response.status_code == 200, response.text
    [sent] = gemini.calls[0].images
    assert len(sent) <= 1_000_000
    assert max(size_of(sent)) <= 2048


def test_blocked_photo_is_502_provider_blocked(live_server, http, jpeg, db_session, gemini):
    use_gemini(db_session)
    gemini.script(image_blocked_reply("IMAGE_SAFETY"))
    body = assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_blocked"
    )
    assert "IMAGE_SAFETY" in body["message"]
    assert only_job(db_session).failure_reason == "provider_blocked"


def test_overloaded_gemini_is_503_provider_unavailable_after_retries(
    live_server, http, jpeg, db_session, gemini
):
    use_gemini(db_session)
    gemini.script(overloaded_reply(), overloaded_reply(), rate_limited_reply("60s"))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert_error(response, 503, "provider_unavailable")
    assert len(gemini.calls) == 3
    assert only_job(db_session).failure_reason == "provider_unavailable"


def test_bad_key_is_502_provider_error_saying_so(live_server, http, jpeg, db_session, gemini):
    gemini.api_key = "AIza-the-real-key-is-another"
    use_gemini(db_session)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 502, "provider_error")
    assert "API key not valid" in body["message"]
    assert API_KEY not in body["message"]


def test_gemini_never_answering_is_504_at_the_deadline_with_no_files_left(
    live_server, http, jpeg, db_session, config, media_root, gemini
):
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_gemini(db_session)
    gemini.script(HANG)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert files_under(media_root) == []


def test_gemini_dripping_its_answer_is_504_at_the_deadline_with_no_files_left(
    live_server, http, jpeg, db_session, config, media_root, gemini
):
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_gemini(db_session)
    gemini.script(dripping(image_reply(png(160, 120)), seconds=0.5))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert files_under(media_root) == []


@pytest.mark.parametrize("gemini_key", [None])
def test_no_key_is_503_provider_not_configured(live_server, http, jpeg, db_session, gemini):
    use_gemini(db_session)
    assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 503, "provider_not_configured"
    )
    assert gemini.calls == []


def test_provider_limit_reached_on_another_slot_is_429_provider_busy(
    live_server, http, jpeg, db_session, config, gemini
):
    save_settings(db_session, config, {"provider_concurrency": 1}, "tests")
    use_gemini(db_session)
    db_session.add(
        Job(
            id="g" * 22,
            slot_id="slot-002",
            source="ingest",
            status="pending",
            provider="gemini",
            deadline_at=utcnow() + timedelta(seconds=30),
        )
    )
    db_session.commit()
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert_error(response, 429, "provider_busy")
    assert int(response.headers["Retry-After"]) > 0
    assert gemini.calls == []
