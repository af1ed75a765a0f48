"""The stats page in Chromium: both charts drawn, and redrawn after the htmx window switch."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page
from sqlalchemy.orm import Session

from app.db import utcnow
from tests.support.jobs import add_job

CHARTS_DRAWN = """() => ["jobs-chart", "latency-chart"].every((id) => {
    const chart = window.Chart && Chart.getChart(document.getElementById(id));
    return chart && chart.data.datasets.some((set) => set.data.some((value) => value > 0));
})"""


def test_stats_page_draws_both_charts_and_redraws_after_a_window_switch(
    admin_page: Page, db_session: Session
) -> None:
    now = utcnow()
    add_job(db_session, provider="gemini", slot_id="slot-002", duration_ms=8000, now=now)
    add_job(db_session, status="timeout", age=timedelta(hours=30), now=now)
    for minutes in (10, 70, 200):
        add_job(db_session, age=timedelta(minutes=minutes), duration_ms=900, now=now)

    admin_page.goto("/admin/stats")
    admin_page.wait_for_function(CHARTS_DRAWN)

    admin_page.click("a[data-window='7d']")
    admin_page.wait_for_url("**/admin/stats?window=7d")
    admin_page.wait_for_function(
        """() => Chart.getChart(document.getElementById("jobs-chart"))?.data.labels.length > 25"""
    )
    admin_page.wait_for_function(CHARTS_DRAWN)
    timeouts = admin_page.evaluate(
        """() => Chart.getChart(document.getElementById("jobs-chart")).data.datasets
                .find((set) => set.key === "timeout").data.reduce((a, b) => a + b, 0)"""
    )
    assert timeouts == 1
