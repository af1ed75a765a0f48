"""Logging in, switching language and being throttled, in a real Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.admin import ADMIN_PASSWORD, ADMIN_USERNAME


def submit_login(page: Page, password: str) -> None:
    page.fill("input[name=username]", ADMIN_USERNAME)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_admin_logs_in_and_out(page: Page, admin_account):
    page.goto("/admin/stats")
    expect(page).to_have_url(re.compile(r".*/admin/login.*"))
    submit_login(page, ADMIN_PASSWORD)
    page.wait_for_url("**/admin/stats")
    page.click(".admin-user button[type=submit]")
    page.wait_for_url("**/admin/login")


def test_language_switch_is_remembered_across_pages(admin_page: Page):
    expect(admin_page.locator("html")).to_have_attribute("lang", "ru")
    admin_page.click(".lang-switch a[lang=en]")
    expect(admin_page.locator(".admin-nav")).to_contain_text("Settings")
    admin_page.click(".admin-nav a[href='/admin/stats']")
    expect(admin_page.locator("html")).to_have_attribute("lang", "en")
    admin_page.click(".lang-switch a[lang=ru]")
    expect(admin_page.locator(".admin-nav")).to_contain_text("Настройки")


def test_throttle_message_appears_after_ten_wrong_passwords(page: Page, admin_account):
    page.goto("/admin/login?lang=en")
    for _ in range(9):
        submit_login(page, "wrong-password")
        expect(page.locator(".form-error")).to_contain_text("Wrong username or password")
    submit_login(page, "wrong-password")
    expect(page.locator(".form-error")).to_contain_text("Too many failed logins")
    submit_login(page, ADMIN_PASSWORD)
    expect(page.locator(".form-error")).to_contain_text("Too many failed logins")
    expect(page).to_have_url(re.compile(r".*/admin/login.*"))
