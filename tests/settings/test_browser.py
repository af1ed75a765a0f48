"""The settings page in Chromium: the T_sync slider shows its value live, saves, and stays."""

from __future__ import annotations

from playwright.sync_api import expect


def test_a_t_sync_value_moved_on_the_slider_and_saved_is_there_after_a_reload(admin_page):
    page = admin_page
    page.goto("/admin/settings")
    card = page.locator("#settings-processing")
    shown = card.locator("output#sync_response_seconds-value")
    expect(shown).to_have_text("48")

    card.locator("input[name=sync_response_seconds]").fill("30")
    expect(shown).to_have_text("30")
    card.locator("button[type=submit]").click()
    expect(page.locator("#settings-processing [role=status]")).to_be_visible()

    page.reload()
    expect(page.locator("input[name=sync_response_seconds]")).to_have_value("30")
    expect(page.locator("output#sync_response_seconds-value")).to_have_text("30")
