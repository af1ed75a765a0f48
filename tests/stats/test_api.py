"""The stats and jobs API over real HTTP with a real bearer token."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.models import Job
from tests.support.ingest import assert_error
from tests.support.jobs import add_job
from tests.support.servers import LiveServer


@pytest.fixture
def rows(db_session: Session) -> list[Job]:
    """Newest first: 2 done (slot-001), a provider error (slot-002), a timeout 3 h ago, and a
    telegram job 2 days ago."""
    now = utcnow()
    return [
        add_job(db_session, age=timedelta(minutes=1), duration_ms=1500, now=now,
                client_meta={"user_id": "guest-1"}),
        add_job(db_session, age=timedelta(minutes=2), duration_ms=2500, now=now),
        add_job(db_session, slot_id="slot-002", status="failed", failure_reason="provider_error",
                age=timedelta(minutes=3), now=now),
        add_job(db_session, status="timeout", age=timedelta(hours=3), now=now),
        add_job(db_session, source="telegram", age=timedelta(days=2), now=now),
    ]  # fmt: skip


def test_overview_totals_series_and_providers_of_the_default_day(
    live_server: LiveServer, api_http: requests.Session, rows: list[Job]
) -> None:
    response = api_http.get(f"{live_server.url}/api/stats/overview")

    assert response.status_code == 200
    body = response.json()
    assert body["window_minutes"] == 1440 and body["bucket_minutes"] == 60
    totals = body["totals"]
    assert (totals["jobs"], totals["succeeded"], totals["timeouts"]) == (4, 2, 1)
    assert totals["provider_errors"] == 1
    assert totals["success_rate"] == 0.5
    assert sum(point["counts"]["done"] for point in body["series"]) == 2
    assert sum(point["counts"]["failed"] for point in body["series"]) == 1
    (local,) = body["providers"]
    assert local["provider"] == "local" and local["succeeded"] == 2
    assert local["p95_ms"] == pytest.approx(2450, rel=0.05)


def test_overview_window_minutes_selects_the_window(
    live_server: LiveServer, api_http: requests.Session, rows: list[Job]
) -> None:
    hour = api_http.get(f"{live_server.url}/api/stats/overview?window_minutes=60").json()
    week = api_http.get(f"{live_server.url}/api/stats/overview?window_minutes=10080").json()

    assert (hour["totals"]["jobs"], hour["bucket_minutes"], len(hour["series"])) == (3, 5, 13)
    assert (week["totals"]["jobs"], week["bucket_minutes"]) == (5, 360)


def test_slots_lists_every_slot_with_its_stats(
    live_server: LiveServer, api_http: requests.Session, rows: list[Job]
) -> None:
    response = api_http.get(f"{live_server.url}/api/stats/slots?window_minutes=120")

    assert response.status_code == 200
    items = {item["slot_id"]: item for item in response.json()["items"]}
    assert len(items) == 15
    assert (items["slot-001"]["jobs"], items["slot-001"]["success_rate"]) == (2, 1.0)
    assert items["slot-001"]["last_job_at"] is not None
    assert items["slot-002"]["last_error_reason"] == "provider_error"
    assert items["slot-003"]["jobs"] == 0 and items["slot-003"]["p95_ms"] is None


@pytest.mark.parametrize("path", ["/api/stats/overview", "/api/stats/slots"])
def test_stats_window_out_of_range_is_422(
    live_server: LiveServer, api_http: requests.Session, path: str
) -> None:
    for value in ("0", "99999", "-5", "soon"):
        response = api_http.get(f"{live_server.url}{path}?window_minutes={value}")

        body = assert_error(response, 422, "validation_error")
        assert body["errors"][0]["field"] == "window_minutes"  # type: ignore[index]


@pytest.mark.parametrize("path", ["/api/stats/overview", "/api/stats/slots", "/api/jobs"])
def test_stats_api_needs_a_token(
    live_server: LiveServer, http: requests.Session, path: str
) -> None:
    response = http.get(f"{live_server.url}{path}")

    assert_error(response, 401, "token_missing")


def test_jobs_newest_first_with_client_meta(
    live_server: LiveServer, api_http: requests.Session, rows: list[Job]
) -> None:
    response = api_http.get(f"{live_server.url}/api/jobs")

    assert response.status_code == 200
    body = response.json()
    assert [item["job_id"] for item in body["items"]] == [job.id for job in rows]
    assert body["items"][0]["client_meta"] == {"user_id": "guest-1"}
    assert body["items"][0]["result_live"] is False
    assert body["next_cursor"] is None


def test_jobs_filters(live_server: LiveServer, api_http: requests.Session, rows: list[Job]) -> None:
    since = (utcnow() - timedelta(hours=4)).isoformat()
    cases = {
        "slot_id=slot-002": [rows[2]],
        "status=timeout": [rows[3]],
        "source=telegram": [rows[4]],
        f"created_from={since.replace('+', '%2B')}&status=done": rows[:2],
    }
    for query, expected in cases.items():
        response = api_http.get(f"{live_server.url}/api/jobs?{query}")

        assert response.status_code == 200, query
        assert [item["job_id"] for item in response.json()["items"]] == [j.id for j in expected]


def test_jobs_pages_by_cursor(
    live_server: LiveServer, api_http: requests.Session, rows: list[Job]
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = api_http.get(f"{live_server.url}/api/jobs", params=params).json()
        seen += [item["job_id"] for item in body["items"]]
        cursor = body["next_cursor"]

    assert seen == [job.id for job in rows]
    assert cursor is None


def test_jobs_bad_parameters_are_422(live_server: LiveServer, api_http: requests.Session) -> None:
    for query, field in {
        "limit=0": "limit",
        "limit=201": "limit",
        "status=exploded": "status",
        "slot_id=slot-016": "slot_id",
        "cursor=garbage": "cursor",
        "created_from=0001-01-01T00:00:00%2B05:00": "created_from",
        "colour=red": "colour",
    }.items():
        response = api_http.get(f"{live_server.url}/api/jobs?{query}")

        body = assert_error(response, 422, "validation_error")
        assert field in body["errors"][0]["field"], query  # type: ignore[index]
