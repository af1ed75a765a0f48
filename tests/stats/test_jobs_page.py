"""The jobs log and a job's detail page over real HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.models import Job
from tests.support.admin import AdminClient
from tests.support.jobs import add_job


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-job-id="([^"]+)">', html)


def link(html: str, rel: str) -> str:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    assert found, rel
    return found.group(1).replace("&amp;", "&")


@pytest.fixture
def jobs(db_session: Session) -> dict[str, Job]:
    now = utcnow()
    return {
        "booth_done": add_job(db_session, age=timedelta(minutes=1), now=now),
        "telegram_failed": add_job(
            db_session, status="failed", source="telegram", age=timedelta(minutes=2), now=now
        ),
        "slot2_timeout": add_job(
            db_session, slot_id="slot-002", status="timeout", age=timedelta(hours=3), now=now
        ),
        "old_api": add_job(db_session, source="api", age=timedelta(days=3), now=now),
    }


def test_jobs_page_lists_newest_first_with_links_to_details(
    admin_http: AdminClient, jobs: dict[str, Job]
) -> None:
    response = admin_http.get("/admin/jobs")

    assert response.status_code == 200
    assert listed(response.text) == [job.id for job in jobs.values()]
    assert f'href="/admin/jobs/{jobs["old_api"].id}"' in response.text


FILTERS = {
    "slot_id=slot-002": ["slot2_timeout"],
    "status=failed": ["telegram_failed"],
    "source=telegram": ["telegram_failed"],
    "source=api&status=done": ["old_api"],
}


def test_jobs_page_filters_by_slot_status_and_source(
    admin_http: AdminClient, jobs: dict[str, Job]
) -> None:
    for query, expected in FILTERS.items():
        response = admin_http.get(f"/admin/jobs?{query}")

        assert response.status_code == 200
        assert listed(response.text) == [jobs[name].id for name in expected], query


def test_jobs_page_filters_by_time_range_in_utc(
    admin_http: AdminClient, jobs: dict[str, Job]
) -> None:
    start = (jobs["slot2_timeout"].created_at - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    end = (jobs["telegram_failed"].created_at - timedelta(seconds=1)).isoformat()

    response = admin_http.get("/admin/jobs", params={"created_from": start, "created_to": end})

    assert listed(response.text) == [jobs["slot2_timeout"].id]
    assert f'value="{start}"' in response.text


def test_jobs_page_pages_by_50_through_older_and_newer_links(
    admin_http: AdminClient, db_session: Session
) -> None:
    now = utcnow()
    created = [add_job(db_session, age=timedelta(seconds=n), now=now) for n in range(120)]
    expected = [job.id for job in created]

    first = admin_http.get("/admin/jobs?source=ingest").text
    second = admin_http.get(link(first, "next")).text
    third = admin_http.get(link(second, "next")).text
    back = admin_http.get(link(third, "prev")).text

    assert listed(first) == expected[:50]
    assert listed(second) == expected[50:100]
    assert listed(third) == expected[100:]
    assert 'rel="next"' not in third
    assert 'rel="prev"' not in first
    assert "source=ingest" in link(second, "next")
    assert listed(back) == expected[50:100]


def test_jobs_page_keeps_rows_of_the_same_instant_apart(
    admin_http: AdminClient, db_session: Session
) -> None:
    now = utcnow()
    same = {add_job(db_session, age=timedelta(0), now=now).id for _ in range(55)}

    first = admin_http.get("/admin/jobs").text
    second = admin_http.get(link(first, "next")).text

    assert (len(listed(first)), len(listed(second))) == (50, 5)
    assert set(listed(first)) | set(listed(second)) == same


BAD_FILTERS = {
    "slot_id=slot-999": "slot_id",
    "status=exploded": "status",
    "source=fax": "source",
    "created_from=yesterday": "created_from",
    "created_to=1850-01-01T00:00": "created_to",
    "created_from=2026-01-02T00:00&created_to=2026-01-01T00:00": "created_to",
}


def test_jobs_page_bad_filter_shows_a_message_at_the_field(
    admin_http: AdminClient, jobs: dict[str, Job]
) -> None:
    for query, field in BAD_FILTERS.items():
        response = admin_http.get(f"/admin/jobs?{query}&lang=en")

        assert response.status_code == 422, query
        assert f'<p class="field-error" id="{field}-error" role="alert">' in response.text, query
        assert listed(response.text) == [], query


def test_jobs_page_broken_cursor_shows_a_message(admin_http: AdminClient) -> None:
    response = admin_http.get("/admin/jobs?after=not-a-cursor&lang=en")

    assert response.status_code == 422
    assert "This page link is broken" in response.text


def test_jobs_page_htmx_filter_renders_only_the_body(
    admin_http: AdminClient, jobs: dict[str, Job]
) -> None:
    response = admin_http.get("/admin/jobs?status=timeout", htmx=True)

    assert response.status_code == 200
    assert "admin-header" not in response.text
    assert listed(response.text) == [jobs["slot2_timeout"].id]


def test_job_detail_shows_every_field(admin_http: AdminClient, db_session: Session) -> None:
    job = add_job(
        db_session,
        status="failed",
        failure_reason="provider_blocked",
        failure_message="Gemini said: SAFETY",
        provider="gemini",
        model="gemini-2.5-flash-image",
        input_bytes=2 * 1024 * 1024,
        input_mime="image/jpeg",
        input_sha256="ab" * 32,
        client_meta={"user_id": "guest-4711", "profile": "wedding"},
        duration_ms=3400,
        provider_ms=3100,
    )

    response = admin_http.get(f"/admin/jobs/{job.id}?lang=en")

    assert response.status_code == 200
    html = response.text
    for text in (
        job.id,
        "provider_blocked",
        "Gemini said: SAFETY",
        "gemini-2.5-flash-image",
        "2.0 MB",
        "image/jpeg",
        "ab" * 32,
        "guest-4711",
        "wedding",
        "3.4 s",
        "3.1 s",
    ):
        assert text in html, text
    assert 'data-link="page"' not in html


def test_job_detail_links_a_live_result(admin_http: AdminClient, db_session: Session) -> None:
    job = add_job(
        db_session,
        result_path="results/slot-001/x",
        result_mime="image/jpeg",
        result_bytes=1000,
        result_expires_at=utcnow() + timedelta(hours=72),
    )

    html = admin_http.get(f"/admin/jobs/{job.id}").text

    assert re.search(rf'href="[^"]*/r/{job.id}" data-link="page"', html)
    assert re.search(
        rf'href="[^"]*/public/results/{job.id}\?download=1" data-link="download"', html
    )


def test_job_detail_of_an_expired_result_has_no_links(
    admin_http: AdminClient, db_session: Session
) -> None:
    job = add_job(
        db_session,
        result_path="results/slot-001/x",
        result_expires_at=utcnow() - timedelta(minutes=1),
    )

    html = admin_http.get(f"/admin/jobs/{job.id}?lang=en").text

    assert 'data-link="page"' not in html
    assert "expired" in html


def test_job_detail_of_an_unknown_or_malformed_id_is_404(admin_http: AdminClient) -> None:
    for job_id in ("AAAAAAAAAAAAAAAAAAAAAA", "x" * 300, "abc%00def", "..%2F..%2Fetc"):
        response = admin_http.get(f"/admin/jobs/{job_id}")

        assert response.status_code == 404, job_id
