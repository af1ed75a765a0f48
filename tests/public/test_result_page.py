"""The guest's result page over real HTTP: languages, error pages, QR code and bot link."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import requests
import segno
from playwright.sync_api import Page

from app.config import Config
from app.ingest.models import Job
from app.settings.service import save_settings
from tests.support.images import make_image_bytes
from tests.support.results import UNKNOWN_ID, expire_in, file_url, html_lang, ingest, page_url
from tests.support.servers import LiveServer


def test_result_page_shows_the_image_a_download_link_and_the_expiry(
    live_server, http, db_session, job_id
):
    response = http.get(page_url(live_server, job_id))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    expires_at = db_session.get(Job, job_id).result_expires_at
    image = file_url(live_server, job_id)
    assert f'src="{image}"' in response.text
    assert f'href="{image}?download=1"' in response.text
    shown = re.search(r'data-expires-at="([^"]+)"', response.text)
    assert shown
    assert datetime.fromisoformat(shown.group(1)) == expires_at.replace(microsecond=0)


def test_ingest_result_url_header_opens_the_result_page(http, done):
    response = http.get(done.headers["X-Result-Url"])
    assert response.status_code == 200
    assert done.headers["X-Job-Id"] in response.text


def test_result_page_is_in_russian_by_default(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(hours=2, seconds=30))
    response = http.get(page_url(live_server, job_id))
    assert html_lang(response) == "ru"
    assert "2 часа" in response.text
    assert ">Download<" not in response.text


def test_result_page_is_in_english_with_lang_en(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(hours=2, seconds=30))
    response = http.get(page_url(live_server, job_id), params={"lang": "en"})
    assert html_lang(response) == "en"
    assert "2 hours" in response.text
    assert ">Download<" in response.text


def test_result_page_follows_an_english_accept_language(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(hours=2, seconds=30))
    response = http.get(page_url(live_server, job_id), headers={"Accept-Language": "en-US,en"})
    assert html_lang(response) == "en"
    assert "2 hours" in response.text


def test_result_page_is_not_indexed_by_search_engines(live_server, http, job_id):
    response = http.get(page_url(live_server, job_id))
    assert '<meta name="robots" content="noindex' in response.text
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_result_page_is_not_stored_by_shared_caches(live_server, http, job_id):
    response = http.get(page_url(live_server, job_id))
    cache_control = response.headers["Cache-Control"]
    assert "no-store" in cache_control or "private" in cache_control


def test_result_page_of_an_unknown_job_is_a_russian_404_page(live_server, http):
    response = http.get(page_url(live_server, UNKNOWN_ID))
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert html_lang(response) == "ru"
    assert "Photo not found" not in response.text


def test_result_page_of_an_unknown_job_is_an_english_404_page_with_lang_en(live_server, http):
    response = http.get(page_url(live_server, UNKNOWN_ID), params={"lang": "en"})
    assert response.status_code == 404
    assert html_lang(response) == "en"
    assert "Photo not found" in response.text


def test_result_page_of_a_failed_job_is_a_404_page(live_server, http, failed_job_id):
    response = http.get(page_url(live_server, failed_job_id))
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


def test_result_page_of_an_expired_job_is_a_russian_410_page(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(seconds=-1))
    response = http.get(page_url(live_server, job_id))
    assert response.status_code == 410
    assert response.headers["Content-Type"].startswith("text/html")
    assert html_lang(response) == "ru"
    assert "This photo has expired" not in response.text
    assert file_url(live_server, job_id) not in response.text


def test_result_page_of_an_expired_job_is_an_english_410_page_with_lang_en(
    live_server, http, db_session, job_id
):
    expire_in(db_session, job_id, timedelta(seconds=-1))
    response = http.get(page_url(live_server, job_id), params={"lang": "en"})
    assert response.status_code == 410
    assert html_lang(response) == "en"
    assert "This photo has expired" in response.text


def qr_modules(markup: str) -> str:
    """The dark modules of the (first) QR code in ``markup``, as segno draws them."""
    path = re.search(r'<path class="qrline"[^>]*\sd="([^"]+)"', markup)
    assert path, markup[:300]
    return path.group(1)


def test_result_page_has_a_qr_code_of_its_own_url(live_server, http, job_id):
    response = http.get(page_url(live_server, job_id), params={"lang": "en"})
    expected = segno.make(page_url(live_server, job_id), error="m").svg_inline()
    assert "<svg" in response.text
    assert qr_modules(response.text) == qr_modules(expected)


@pytest.mark.usefixtures("app")  # saves the ingest password
def test_result_page_qr_code_uses_the_public_base_url(make_config):
    from app import create_app

    app = create_app(make_config(public_base_url="https://photos.example.org"))
    server = LiveServer(app)
    try:
        job = ingest(server, requests.Session(), make_image_bytes()).headers["X-Job-Id"]
        response = requests.get(page_url(server, job), timeout=10)
    finally:
        server.stop()
        app.extensions["db_engine"].dispose()
    expected = segno.make(f"https://photos.example.org/r/{job}", error="m").svg_inline()
    assert qr_modules(response.text) == qr_modules(expected)


def test_result_page_has_no_telegram_button_while_no_bot_is_configured(live_server, http, job_id):
    response = http.get(page_url(live_server, job_id))
    assert "data-telegram-link" not in response.text
    assert "t.me" not in response.text


def test_result_page_links_to_the_bot_once_it_is_configured(
    live_server, http, db_session, config: Config, job_id
):
    save_settings(db_session, config, {"telegram_bot_username": "PhotoBoothBot"}, "tests")
    response = http.get(page_url(live_server, job_id), params={"lang": "en"})
    assert f'href="https://t.me/PhotoBoothBot?start=r_{job_id}"' in response.text
    assert "Get it in Telegram" in response.text


def test_result_page_shows_the_qr_code_on_wide_screens_only(live_server, page: Page, job_id):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/r/{job_id}")
    assert page.locator("img.result").is_visible()
    assert not page.locator("[data-qr]").is_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    qr = page.locator("[data-qr] svg")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box
    assert box["width"] >= 120
    assert box["y"] + box["height"] <= 800
