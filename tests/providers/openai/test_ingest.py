"""Booth photos processed by OpenAI through the real ingest route."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from sqlalchemy.orm import Session

from app.config import Config
from app.settings.service import save_settings
from tests.support.fakes.openai import (
    API_KEY,
    FakeOpenAI,
    image_answer,
    insufficient_quota,
    moderation_blocked,
    small_image,
)
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.openai_driver import SETTINGS
from tests.support.stored import files_under, only_job, use_provider


@pytest.fixture
def openai_key() -> str | None:
    return API_KEY


@pytest.fixture
def config(make_config: Callable[..., Config], fake: FakeOpenAI, openai_key: str | None) -> Config:
    return make_config(openai_api_key=openai_key, openai_api_base=fake.base_url)


def use_openai(db_session: Session, settings: Mapping[str, object] | None = None) -> None:
    use_provider(db_session, "openai", SETTINGS if settings is None else settings)


def test_booth_photo_through_openai_is_200_with_the_image_and_a_recorded_job(
    live_server, http, jpeg, db_session, fake
):
    use_openai(db_session, {**SETTINGS, "model": "gpt-image-1"})
    image = small_image("jpeg", (64, 48))
    fake.then(image_answer(image))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.content == image
    assert fake.edits[0].fields["output_format"] == "jpeg"
    job = only_job(db_session)
    assert (job.id, job.status, job.provider) == (response.headers["X-Job-Id"], "done", "openai")
    assert job.model == "gpt-image-1"
    assert job.provider_ms is not None


def test_safety_refusal_through_the_route_is_502_provider_blocked(
    live_server, http, jpeg, db_session, fake
):
    use_openai(db_session)
    fake.then(moderation_blocked())
    assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_blocked")
    assert only_job(db_session).failure_reason == "provider_blocked"


def test_out_of_credit_through_the_route_is_503_provider_unavailable(
    live_server, http, jpeg, db_session, fake
):
    use_openai(db_session)
    fake.always(insufficient_quota())
    body = assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 503, "provider_unavailable"
    )
    assert "out of credit" in body["message"]
    assert len(fake.edits) == 1


@pytest.mark.parametrize("openai_key", ["sk-wrong-key-7777"])
def test_refused_key_through_the_route_is_502_provider_error(live_server, http, jpeg, db_session):
    use_openai(db_session)
    body = assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_error")
    assert "API key" in body["message"]
    assert "7777" not in body["message"]


def test_openai_never_answering_is_504_at_the_deadline_with_no_files_left(
    live_server, http, jpeg, db_session, config, media_root, fake
):
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_openai(db_session)
    fake.always(fake.hang())
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert files_under(media_root) == []


@pytest.mark.parametrize("openai_key", [None])
def test_no_openai_key_is_503_provider_not_configured(live_server, http, jpeg, db_session, fake):
    use_openai(db_session)
    assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 503, "provider_not_configured"
    )
    assert fake.edits == []
