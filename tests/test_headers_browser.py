"""The content security policy in Chromium: the admin pages and a guest's result page work under it
and report no violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.support.results import ingest
from tests.support.servers import LiveServer

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""
CHARTS_DRAWN = """() => ["jobs-chart", "latency-chart"].every(
    (id) => window.Chart && Chart.getChart(document.getElementById(id)))"""


@pytest.fixture
def console_errors(admin_page: Page) -> list[str]:
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            errors.append(message.text)

    admin_page.on("console", keep)
    admin_page.add_init_script(RECORD_VIOLATIONS)
    return errors


def visit(page: Page, path: str) -> list[str]:
    """Load ``path`` and return the policy violations it caused."""
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert "Content-Security-Policy" in {name.title() for name in response.headers}
    page.wait_for_load_state("networkidle")
    violations: list[str] = page.evaluate("window.cspViolations")
    return violations


def test_admin_pages_and_a_result_page_run_under_the_policy_without_violations(
    admin_page: Page, console_errors: list[str], live_server: LiveServer, http, jpeg
):
    job_id = ingest(live_server, http, jpeg).headers["X-Job-Id"]

    assert visit(admin_page, "/admin/") == []
    assert visit(admin_page, "/admin/slots/slot-001") == []
    assert visit(admin_page, "/admin/settings") == []
    assert visit(admin_page, "/admin/stats") == []
    admin_page.wait_for_function(CHARTS_DRAWN)
    assert visit(admin_page, f"/r/{job_id}") == []
    loaded = admin_page.evaluate(
        "performance.getEntriesByType('resource').map((entry) => entry.name)"
    )
    assert any(name.endswith("/static/result.js") for name in loaded)

    assert console_errors == []
