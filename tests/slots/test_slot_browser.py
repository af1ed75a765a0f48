"""The slot page in Chromium: edit and save, provider switch, template upload and removal."""

from __future__ import annotations

from playwright.sync_api import FilePayload, Page, expect

from tests.support.images import make_image_bytes


def settled(page: Page) -> None:
    """Wait until htmx has swapped and processed what it fetched (new controls are live)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def test_edit_and_save_a_slot_then_reload_shows_it(admin_page: Page):
    admin_page.click("a[href='/admin/slots/slot-001']")
    admin_page.fill("#f-display_name", "Neon portrait")
    admin_page.fill("#f-output-quality", "75")

    admin_page.click("#slot-form button[type=submit]")

    expect(admin_page.locator("#slot-saved")).to_be_visible()
    expect(admin_page.locator("#slot-version")).to_have_value("2")
    admin_page.reload()
    expect(admin_page.locator("#f-display_name")).to_have_value("Neon portrait")
    expect(admin_page.locator("#f-output-quality")).to_have_value("75")


def test_switching_provider_swaps_its_fields_and_keeps_the_prompt(admin_page: Page):
    admin_page.goto("/admin/slots/slot-002")
    expect(admin_page.locator("#f-settings-style")).to_be_visible()

    admin_page.select_option("#f-provider", "gemini")
    expect(admin_page.locator("#f-settings-prompt")).to_be_visible()
    expect(admin_page.locator("#f-settings-style")).to_have_count(0)
    expect(admin_page.locator("#f-settings-model")).to_have_value("gemini-2.5-flash-image")
    admin_page.fill("#f-settings-prompt", "A neon portrait")

    admin_page.select_option("#f-provider", "openai")
    expect(admin_page.locator("#f-settings-model")).to_have_value("gpt-image-1.5")
    expect(admin_page.locator("#f-settings-prompt")).to_have_value("A neon portrait")

    admin_page.select_option("#f-provider", "turbotext")
    settled(admin_page)
    admin_page.select_option("#f-settings-method", "deepfake_photo")
    expect(admin_page.locator("#f-settings-face_restore")).to_be_visible()
    expect(admin_page.locator("#f-settings-prompt")).to_have_count(0)


def test_upload_a_template_see_its_thumbnail_remove_it_and_still_save(admin_page: Page):
    admin_page.goto("/admin/slots/slot-003")
    png: FilePayload = {
        "name": "style.png",
        "mimeType": "image/png",
        "buffer": make_image_bytes(300, 200, "PNG"),
    }
    admin_page.set_input_files("#template-file", files=[png])
    expect(admin_page.locator(".dropzone-preview")).to_be_visible()

    admin_page.click("form.template-upload button[type=submit]")

    thumbnail = admin_page.locator(".template-item img")
    expect(thumbnail).to_be_visible()
    loaded_width = thumbnail.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.onload = () => done(img.naturalWidth);
            img.onerror = () => done(0);
        })"""
    )
    assert loaded_width > 0
    expect(admin_page.locator("#slot-version")).to_have_value("2")

    admin_page.click(".template-item button")

    expect(admin_page.locator(".template-item")).to_have_count(0)
    expect(admin_page.locator("#slot-version")).to_have_value("3")
    admin_page.click("#slot-form button[type=submit]")
    expect(admin_page.locator("#slot-saved")).to_be_visible()
