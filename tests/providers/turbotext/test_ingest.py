"""Booth photos processed by Turbotext through the real ingest route."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy.orm import Session

from app.settings.service import save_settings
from app.slots.models import TemplateMedia
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.stored import files_under, only_job, use_provider
from tests.support.turbotext_driver import DEEPFAKE, GENERATE, MIX


def add_template(db_session: Session, media_root: Path) -> bytes:
    data = make_image_bytes(300, 200, "PNG", color=(10, 200, 10))
    path = media_root / "templates" / "slot-001" / "style.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    db_session.add(
        TemplateMedia(
            media_id="tpl-style",
            slot_id="slot-001",
            kind="style",
            path="templates/slot-001/style.png",
            mime="image/png",
            size_bytes=len(data),
            width=300,
            height=200,
        )
    )
    db_session.commit()
    return data


def test_booth_photo_is_processed_by_turbotext_through_the_route(
    live_server, http, jpeg, db_session, fake, media_root
):
    use_provider(db_session, "turbotext", GENERATE)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (96, 64)
    job = only_job(db_session)
    assert (job.id, job.status, job.model) == (
        response.headers["X-Job-Id"],
        "done",
        GENERATE["method"],
    )
    assert job.provider_ms and job.provider_ms > 0
    fetched = fake.fetched_field("url")
    assert fetched.url.startswith(f"{live_server.url}/public/provider-media/")
    assert Image.open(io.BytesIO(fetched.body)).size == (640, 480)
    assert requests.get(fetched.url, timeout=5).status_code == 410
    assert files_under(media_root / "temp") == []


def test_mix_images_through_the_route_sends_the_slot_template(
    live_server, http, jpeg, db_session, fake, media_root
):
    fake.behaviour.reconnects = 0
    use_provider(db_session, "turbotext", MIX)
    add_template(db_session, media_root)
    assert post_photo(http, ingest_url(live_server.url), jpeg).status_code == 200
    style = Image.open(io.BytesIO(fake.fetched_field("url").body))
    assert (style.format, style.size) == ("JPEG", (300, 200))
    assert files_under(media_root / "temp") == []


def test_face_not_detected_through_the_route_is_502_provider_error(
    live_server, http, jpeg, db_session, fake, media_root
):
    fake.behaviour.reconnects = 0
    fake.behaviour.result_error = "face_not_detected"
    use_provider(db_session, "turbotext", DEEPFAKE)
    add_template(db_session, media_root)
    body = assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_error")
    assert "face_not_detected" in body["message"]
    job = only_job(db_session)
    assert (job.status, job.failure_reason) == ("failed", "provider_error")
    assert files_under(media_root / "temp") == []


def test_results_that_never_come_through_the_route_are_504_at_the_deadline(
    live_server, http, jpeg, db_session, config, fake, media_root
):
    fake.behaviour.never_finish = True
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_provider(db_session, "turbotext", GENERATE)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert fake.create_calls == 1
    assert files_under(media_root) == []


@pytest.mark.parametrize("api_key", [None])
def test_turbotext_without_a_key_through_the_route_is_503_not_configured(
    live_server, http, jpeg, db_session, fake, media_root
):
    use_provider(db_session, "turbotext", GENERATE)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert_error(response, 503, "provider_not_configured")
    assert fake.calls == []
    assert files_under(media_root / "temp") == []
