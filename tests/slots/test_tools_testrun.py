"""The slot's test run over real HTTP: the slot page's htmx form and the JSON API."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import requests
from openapi_spec_validator import validate
from PIL import Image
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.ingest.models import Job
from app.slots.models import Slot
from tests.support.admin import AdminClient
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error
from tests.support.servers import LiveServer
from tests.support.slots import set_provider_settings
from tests.support.stored import files_under, only_job

TEST_RUN = "/admin/slots/slot-001/test-run"


def run_from_page(admin_http: AdminClient, photo: bytes | None, **kwargs: Any) -> requests.Response:
    files = {"photo": ("guest.jpg", photo, "image/jpeg")} if photo is not None else None
    return admin_http.post(TEST_RUN, htmx=True, files=files, timeout=70, **kwargs)


def job_id_in(page: str) -> str:
    found = re.search(r'data-job-id="([^"]+)"', page)
    assert found, page
    return found.group(1)


def slot_snapshot(session: Session, slot_id: str = "slot-001") -> dict[str, Any]:
    session.expire_all()
    slot = session.get(Slot, slot_id)
    assert slot is not None
    return {attr.key: getattr(slot, attr.key) for attr in inspect(Slot).column_attrs}


def test_page_test_run_shows_the_result_image_and_its_timing(admin_http, jpeg, db_session):
    response = run_from_page(admin_http, jpeg)

    assert response.status_code == 200, response.text
    assert response.headers["HX-Trigger"] == "testrun-done"
    assert 'data-test-run="done"' in response.text
    job_id = job_id_in(response.text)
    assert f'src="/public/results/{job_id}/preview"' in response.text
    assert f'href="/r/{job_id}"' in response.text
    job = only_job(db_session)
    assert (job.id, job.source, job.status) == (job_id, "ui_test", "done")
    assert job.duration_ms is not None
    assert f'data-duration-ms="{job.duration_ms}"' in response.text
    assert f'data-provider-ms="{job.provider_ms}"' in response.text
    preview = admin_http.get(f"/public/results/{job_id}/preview")
    assert preview.headers["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(preview.content)).width > 0


def test_page_test_run_works_while_the_slot_is_switched_off(admin_http, jpeg, db_session):
    db_session.get(Slot, "slot-001").is_active = False
    db_session.commit()

    response = run_from_page(admin_http, jpeg)

    assert 'data-test-run="done"' in response.text
    assert only_job(db_session).status == "done"


def test_page_test_run_never_replays_an_earlier_result(admin_http, jpeg, db_session):
    first = job_id_in(run_from_page(admin_http, jpeg).text)
    second = job_id_in(run_from_page(admin_http, jpeg).text)

    assert first != second
    assert len(db_session.scalars(select(Job)).all()) == 2


def test_page_test_run_without_a_configured_provider_shows_the_reason_inline(
    admin_http, jpeg, db_session, media_root
):
    set_provider_settings(db_session, "slot-001", "gemini", {"prompt": "neon"}, "tests")

    response = run_from_page(admin_http, jpeg)

    assert response.status_code == 200
    assert 'data-failure-reason="provider_not_configured"' in response.text
    assert "gemini" in response.text
    job = only_job(db_session)
    assert (job.source, job.status, job.failure_reason) == (
        "ui_test",
        "failed",
        "provider_not_configured",
    )
    assert files_under(media_root / "results") == []


def test_page_test_run_of_a_file_that_is_not_an_image_shows_the_error_inline(
    admin_http, db_session, media_root
):
    files = {"photo": ("notes.txt", b"just some text", "text/plain")}

    response = admin_http.post(TEST_RUN, htmx=True, files=files)

    assert response.status_code == 415
    assert 'data-failure-reason="unsupported_media_type"' in response.text
    assert only_job(db_session).failure_reason == "unsupported_media_type"
    assert files_under(media_root / "results") == []


def test_page_test_run_over_the_slot_size_limit_shows_the_error_inline(admin_http, db_session):
    db_session.get(Slot, "slot-001").size_limit_mb = 1
    db_session.commit()
    photo = make_image_bytes(1600, 1200, noise=True, quality=95)
    assert len(photo) > 2**20

    response = run_from_page(admin_http, photo)

    assert response.status_code == 413
    assert 'data-failure-reason="payload_too_large"' in response.text


def test_page_test_run_without_a_photo_asks_for_one_and_records_no_job(admin_http, db_session):
    response = run_from_page(admin_http, None, data={"photo": ""})

    assert response.status_code == 422
    assert 'data-test-run="missing"' in response.text
    assert db_session.scalars(select(Job)).all() == []


def test_page_test_run_without_the_csrf_token_is_refused(admin_http, jpeg, db_session):
    response = admin_http.request(
        "POST", TEST_RUN, htmx=True, csrf=False, files={"photo": ("a.jpg", jpeg, "image/jpeg")}
    )

    assert response.status_code == 400
    assert db_session.scalars(select(Job)).all() == []


def test_page_test_run_of_an_unknown_slot_is_404(admin_http, jpeg):
    response = admin_http.post(
        "/admin/slots/slot-099/test-run", files={"photo": ("a.jpg", jpeg, "image/jpeg")}
    )

    assert response.status_code == 404


def api_run(
    api_http: requests.Session,
    live_server: LiveServer,
    photo: bytes | None,
    slot_id: str = "slot-001",
    **data: str,
) -> requests.Response:
    files = {"test_image": ("guest.jpg", photo, "image/jpeg")} if photo is not None else None
    return api_http.post(
        f"{live_server.url}/api/slots/{slot_id}/test-run", files=files, data=data, timeout=70
    )


def test_api_test_run_answers_the_result_links_and_timing(api_http, live_server, jpeg, db_session):
    response = api_run(api_http, live_server, jpeg)

    assert response.status_code == 200, response.text
    body = response.json()
    job = only_job(db_session)
    assert body["job_id"] == job.id
    assert (job.source, job.status, body["status"]) == ("api", "done", "done")
    assert body["duration_ms"] == job.duration_ms
    assert body["provider_ms"] == job.provider_ms
    assert body["page_url"] == f"{live_server.url}/r/{job.id}"
    result = requests.get(body["result_url"], timeout=10)
    assert result.headers["Content-Type"] == "image/jpeg"
    assert requests.get(body["preview_url"], timeout=10).status_code == 200


def test_api_test_run_overrides_apply_to_that_run_only(api_http, live_server, jpeg, db_session):
    before = slot_snapshot(db_session)
    overrides = {"settings": {"style": "bw"}, "output": {"format": "png"}, "size_limit_mb": 5}

    response = api_run(api_http, live_server, jpeg, slot_payload=json.dumps(overrides))

    assert response.status_code == 200, response.text
    result = requests.get(response.json()["result_url"], timeout=10)
    assert result.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(result.content)).convert("RGB")
    red, green, blue = image.getpixel((10, 10))  # type: ignore[misc]
    assert red == green == blue  # bw, where the saved sepia would tint
    assert slot_snapshot(db_session) == before
    assert only_job(db_session).client_meta == {"overrides": "output,settings,size_limit_mb"}


def test_api_test_run_with_another_provider_reports_its_failure(
    api_http, live_server, jpeg, db_session
):
    before = slot_snapshot(db_session)
    overrides = {"provider": "gemini", "settings": {"prompt": "neon"}}

    response = api_run(api_http, live_server, jpeg, slot_payload=json.dumps(overrides))

    body = assert_error(response, 503, "provider_not_configured")
    job = only_job(db_session)
    assert body["job_id"] == job.id
    assert (job.provider, job.model) == ("gemini", "gemini-2.5-flash-image")
    assert slot_snapshot(db_session) == before


INVALID_OVERRIDES = {
    "{not json": "slot_payload",
    "[1, 2]": "slot_payload",
    '{"output": {"quality": 500}}': "slot_payload.output.quality",
    '{"colour": "red"}': "slot_payload.colour",
    '{"settings": {"style": "sepia", "strength": 3}}': "slot_payload.settings.strength",
    '{"provider": "openai"}': "slot_payload.settings",
}


def test_api_test_run_with_invalid_overrides_is_422_naming_the_field_and_runs_nothing(
    api_http, live_server, jpeg, db_session
):
    for slot_payload, field in INVALID_OVERRIDES.items():
        response = api_run(api_http, live_server, jpeg, slot_payload=slot_payload)

        assert_error(response, 422, "validation_error")
        assert [error["field"] for error in response.json()["errors"]] == [field], slot_payload
    assert db_session.scalars(select(Job)).all() == []


def test_api_test_run_without_a_file_is_422(api_http, live_server, db_session):
    response = api_run(api_http, live_server, None, slot_payload="{}")

    assert_error(response, 422, "validation_error")
    assert [error["field"] for error in response.json()["errors"]] == ["test_image"]
    assert db_session.scalars(select(Job)).all() == []


def test_api_test_run_of_a_file_that_is_not_an_image_is_415(api_http, live_server):
    files = {"test_image": ("notes.txt", b"just some text", "text/plain")}

    response = api_http.post(f"{live_server.url}/api/slots/slot-001/test-run", files=files)

    assert_error(response, 415, "unsupported_media_type")


def test_api_test_run_of_an_unknown_slot_is_404(api_http, live_server, jpeg):
    assert_error(api_run(api_http, live_server, jpeg, "slot-099"), 404, "slot_not_found")


def test_api_test_run_needs_a_bearer_token(live_server, jpeg, db_session):
    response = requests.post(
        f"{live_server.url}/api/slots/slot-001/test-run",
        files={"test_image": ("a.jpg", jpeg, "image/jpeg")},
        timeout=10,
    )

    assert_error(response, 401, "token_missing")
    assert db_session.scalars(select(Job)).all() == []


def test_openapi_documents_the_test_run_as_a_multipart_upload(live_server):
    document = requests.get(f"{live_server.url}/api/openapi.json", timeout=10).json()

    validate(document)
    operation = document["paths"]["/api/slots/{slot_id}/test-run"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    form = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    test_image = form["properties"]["test_image"]
    assert (test_image["type"], test_image["format"]) == ("string", "binary")
    assert form["required"] == ["test_image"]
    assert {"200", "404", "415", "422", "503", "504"} <= set(operation["responses"])


def test_page_test_run_of_a_body_over_the_global_cap_shows_the_error_inline(admin_http, config):
    too_big = b"\xff\xd8\xff" + b"\0" * (config.max_upload_bytes + 2**20)

    response = run_from_page(admin_http, too_big)

    assert response.status_code == 413
    assert 'data-failure-reason="payload_too_large"' in response.text


def test_api_test_run_of_a_body_over_the_global_cap_is_413(api_http, live_server, config):
    too_big = b"\xff\xd8\xff" + b"\0" * (config.max_upload_bytes + 2**20)

    assert_error(api_run(api_http, live_server, too_big), 413, "payload_too_large")
