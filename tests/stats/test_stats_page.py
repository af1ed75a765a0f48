"""The stats page over real HTTP, on job rows written into the real database."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import utcnow
from app.media.models import MediaObject
from app.slots.models import TemplateMedia
from tests.support.admin import AdminClient
from tests.support.jobs import add_job

DAY = timedelta(hours=24)
WINDOWS = ("1h", "72h", "7d")


def total(html: str, name: str) -> str:
    found = re.search(rf'data-total="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


def chart(html: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert found, element_id
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def series_sums(data: dict[str, Any]) -> dict[str, int]:
    return {dataset["key"]: sum(dataset["data"]) for dataset in data["datasets"]}


def slot_cell(html: str, slot_id: str, field: str) -> str:
    row = re.search(rf'<tr data-slot-id="{slot_id}">(.*?)</tr>', html, re.S)
    assert row, slot_id
    cell = re.search(rf'data-field="{field}">(.*?)</td>', row.group(1), re.S)
    assert cell, field
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


def failure_ids(html: str) -> list[str]:
    table = html.split('class="data stats-failures"', 1)
    return re.findall(r'<tr data-job-id="([^"]+)">', table[1]) if len(table) == 2 else []


def add_mixed_jobs(db_session: Session) -> None:
    """24 h: 3 done, 1 timeout, 1 provider error, 1 invalid image, 1 pending; plus 2 days ago."""
    now = utcnow()
    for minutes in (5, 90, 300):
        add_job(db_session, age=timedelta(minutes=minutes), duration_ms=2000, now=now)
    add_job(db_session, slot_id="slot-002", status="timeout", duration_ms=48000, now=now)
    add_job(db_session, slot_id="slot-002", status="failed", failure_reason="provider_error")
    add_job(db_session, slot_id="slot-003", status="failed", failure_reason="invalid_image")
    add_job(db_session, slot_id="slot-003", status="pending", age=timedelta(seconds=5), now=now)
    add_job(db_session, status="failed", age=timedelta(days=2), now=now)


def test_stats_page_shows_the_totals_of_the_default_day(
    admin_http: AdminClient, db_session: Session
) -> None:
    add_mixed_jobs(db_session)

    response = admin_http.get("/admin/stats?lang=en")

    assert response.status_code == 200
    html = response.text
    assert (total(html, "jobs"), total(html, "succeeded")) == ("7", "3")
    assert (total(html, "timeouts"), total(html, "provider_errors")) == ("1", "1")


def test_stats_page_window_comes_from_the_address(
    admin_http: AdminClient, db_session: Session
) -> None:
    add_mixed_jobs(db_session)

    hour = admin_http.get("/admin/stats?window=1h&lang=en").text
    week = admin_http.get("/admin/stats?window=7d&lang=en").text

    assert total(hour, "jobs") == "5"
    assert total(week, "jobs") == "8"
    assert 'data-window="7d"' in week
    assert re.search(r'data-window="7d"[^>]*aria-current="true"', week)


def test_stats_page_storage_counts_live_results_and_template_images(
    admin_http: AdminClient, db_session: Session
) -> None:
    live = add_job(db_session)
    cleaned = add_job(db_session)
    db_session.add_all(
        [
            MediaObject(job_id=live.id, slot_id="slot-001", kind="payload", path="a/p.jpg",
                        mime="image/jpeg", size_bytes=1024 * 1024),
            MediaObject(job_id=live.id, slot_id="slot-001", kind="preview", path="a/v.webp",
                        mime="image/webp", size_bytes=512 * 1024),
            MediaObject(job_id=cleaned.id, slot_id="slot-001", kind="payload", path="b/p.jpg",
                        mime="image/jpeg", size_bytes=50 * 1024 * 1024, deleted_at=utcnow()),
            TemplateMedia(media_id="t1", slot_id="slot-004", kind="style", path="t/1.png",
                          mime="image/png", size_bytes=512 * 1024, width=10, height=10),
        ]
    )  # fmt: skip
    db_session.commit()

    html = admin_http.get("/admin/stats?lang=en").text

    assert total(html, "storage") == "2.0 MB"


def test_stats_page_chart_data_matches_the_job_rows(
    admin_http: AdminClient, db_session: Session
) -> None:
    add_mixed_jobs(db_session)
    add_job(db_session, slot_id="slot-004", provider="gemini", duration_ms=9000)

    html = admin_http.get("/admin/stats?window=24h&lang=en").text

    jobs = chart(html, "jobs-chart-data")
    assert len(jobs["labels"]) in (24, 25)
    assert all(len(dataset["data"]) == len(jobs["labels"]) for dataset in jobs["datasets"])
    sums = series_sums(jobs)
    assert sums == {"pending": 1, "done": 4, "failed": 2, "timeout": 1, "interrupted": 0}
    latency = chart(html, "latency-chart-data")
    assert latency["labels"] == ["gemini", "local"]
    p95_seconds = dict(zip(latency["labels"], latency["datasets"][0]["data"], strict=True))
    assert abs(p95_seconds["gemini"] - 9.0) < 0.45
    assert abs(p95_seconds["local"] - 2.0) < 0.1


def test_stats_page_buckets_follow_the_window(admin_http: AdminClient, db_session: Session) -> None:
    add_mixed_jobs(db_session)

    pages = {window: admin_http.get(f"/admin/stats?window={window}").text for window in WINDOWS}
    lengths = {
        window: len(chart(html, "jobs-chart-data")["labels"]) for window, html in pages.items()
    }

    assert lengths["1h"] in (12, 13)
    assert lengths["72h"] in (24, 25)
    assert lengths["7d"] in (28, 29)


def test_stats_page_slot_table_shows_rates_and_durations(
    admin_http: AdminClient, db_session: Session
) -> None:
    add_mixed_jobs(db_session)

    html = admin_http.get("/admin/stats?lang=en").text

    assert slot_cell(html, "slot-001", "jobs") == "3"
    assert slot_cell(html, "slot-001", "success_rate") == "100.0%"
    assert slot_cell(html, "slot-001", "p95") == "2.0 s"
    assert slot_cell(html, "slot-002", "timeout_rate") == "50.0%"
    assert slot_cell(html, "slot-002", "last_error") in ("timeout", "provider_error")
    assert slot_cell(html, "slot-009", "jobs") == "0"
    assert slot_cell(html, "slot-009", "success_rate") == "—"


def test_stats_page_lists_the_last_20_failures_newest_first(
    admin_http: AdminClient, db_session: Session
) -> None:
    now = utcnow()
    failures = [
        add_job(db_session, status="failed", age=timedelta(minutes=minutes), now=now)
        for minutes in range(1, 26)
    ]
    add_job(db_session, status="done", now=now)

    html = admin_http.get("/admin/stats").text

    assert failure_ids(html) == [job.id for job in failures[:20]]
    assert f'href="/admin/jobs/{failures[0].id}"' in html
    assert "provider_error happened" in html


def test_stats_page_htmx_swap_renders_only_the_content_block(
    admin_http: AdminClient, db_session: Session
) -> None:
    add_mixed_jobs(db_session)

    response = admin_http.get("/admin/stats?window=7d&lang=en", htmx=True)

    assert response.status_code == 200
    assert "<html" not in response.text and "admin-header" not in response.text
    assert total(response.text, "jobs") == "8"
    assert 'id="jobs-chart-data"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_stats_page_unknown_window_shows_the_day_with_a_message(admin_http: AdminClient) -> None:
    response = admin_http.get("/admin/stats?window=5y&lang=en")

    assert response.status_code == 200
    assert "Unknown window" in response.text
    assert re.search(r'data-window="24h"[^>]*aria-current="true"', response.text)


def test_stats_page_empty_database_has_no_failures_and_no_latency_chart(
    admin_http: AdminClient,
) -> None:
    html = admin_http.get("/admin/stats?lang=en").text

    assert total(html, "jobs") == "0"
    assert failure_ids(html) == []
    assert 'id="latency-chart"' not in html
    assert chart(html, "latency-chart-data")["labels"] == []


def test_stats_page_needs_a_login(live_server: Any, http: Any) -> None:
    response = http.get(f"{live_server.url}/admin/stats", allow_redirects=False)

    assert response.status_code in (302, 303)
    assert "/admin/login" in response.headers["Location"]
