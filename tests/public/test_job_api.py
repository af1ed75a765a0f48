"""The job status API over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.ingest.models import Job
from tests.support.results import BOOTH_FIELDS, UNKNOWN_ID, expire_in, file_url, page_url


def test_job_api_reports_a_finished_job_and_its_result(live_server, http, db_session, job_id):
    response = http.get(f"{live_server.url}/api/jobs/{job_id}")
    assert response.status_code == 200
    body = response.json()
    expires_at = db_session.get(Job, job_id).result_expires_at
    assert body["job_id"] == job_id
    assert body["status"] == "done"
    assert body["failure_reason"] is None
    assert body["result_mime"] == "image/jpeg"
    assert body["result_available"] is True
    assert datetime.fromisoformat(body["result_expires_at"]) == expires_at
    assert body["result_url"] == file_url(live_server, job_id)
    assert body["page_url"] == page_url(live_server, job_id)


def test_job_api_never_shows_client_metadata(live_server, http, job_id):
    response = http.get(f"{live_server.url}/api/jobs/{job_id}")
    assert response.status_code == 200
    body = response.json()
    for hidden in ("client_meta", "idempotency_key", "input_sha256", "failure_message"):
        assert hidden not in body
    for name, value in BOOTH_FIELDS.items():
        assert name not in response.text
        assert value not in response.text


def test_job_api_reports_a_failed_job_without_a_result(live_server, http, failed_job_id):
    body = http.get(f"{live_server.url}/api/jobs/{failed_job_id}").json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == "unsupported_media_type"
    assert body["result_available"] is False
    assert body["result_url"] is None


def test_job_api_reports_an_expired_result_as_unavailable(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(seconds=-1))
    body = http.get(f"{live_server.url}/api/jobs/{job_id}").json()
    assert body["status"] == "done"
    assert body["result_available"] is False
    assert body["result_url"] is None


def test_job_api_for_an_unknown_job_is_404_json(live_server, http):
    response = http.get(f"{live_server.url}/api/jobs/{UNKNOWN_ID}")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["failure_reason"] == "job_not_found"


def test_job_api_is_not_stored_by_caches(live_server, http, job_id):
    response = http.get(f"{live_server.url}/api/jobs/{job_id}")
    assert "no-store" in response.headers["Cache-Control"]


def test_job_api_is_documented_in_openapi_without_a_token(live_server, http):
    document = http.get(f"{live_server.url}/api/openapi.json").json()
    operation = document["paths"]["/api/jobs/{job_id}"]["get"]
    assert operation["tags"] == ["jobs"]
    assert not operation.get("security")
    assert set(operation["responses"]) >= {"200", "404"}
    ok_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok_schema["$ref"].endswith("/PublicJob")
    fields = document["components"]["schemas"]["PublicJob"]["properties"]
    assert "client_meta" not in fields
    assert {"job_id", "status", "result_available", "page_url"} <= set(fields)
