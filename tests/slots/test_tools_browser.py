"""The slot page's test run in a real Chromium: pick a photo, run, see the result image."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.images import make_image_bytes


def test_a_test_run_on_the_slot_page_shows_the_result_image(admin_page: Page, tmp_path):
    photo = tmp_path / "guest.jpg"
    photo.write_bytes(make_image_bytes(800, 600))
    admin_page.goto("/admin/slots/slot-001")

    admin_page.set_input_files("#test-run input[name=photo]", str(photo))
    admin_page.click("#test-run button[type=submit]")

    result = admin_page.locator("#test-run-result [data-test-run=done] img")
    expect(result).to_be_visible(timeout=30_000)
    admin_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.element_handle()
    )
    recent = admin_page.locator("#recent-results img")
    expect(recent).to_have_count(1)
    job_id = admin_page.locator("#test-run-result [data-job-id]").get_attribute("data-job-id")
    expect(admin_page.locator("#recent-results a")).to_have_attribute("href", f"/r/{job_id}")
