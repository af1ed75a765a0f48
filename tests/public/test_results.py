"""Guests' side over real HTTP: results created by the real ingest route, rows in the real DB."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
import segno
from PIL import Image
from playwright.sync_api import Page
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Config
from app.db import utcnow
from app.ingest.models import Job
from app.settings.service import save_settings
from tests.support.images import make_image_bytes
from tests.support.ingest import ingest_url, post_photo
from tests.support.servers import LiveServer

BOOTH_FIELDS = {"user_id": "guest-4711", "profile": "wedding-profile-x", "time": "1700000000"}
UNKNOWN_ID = "AAAAAAAAAAAAAAAAAAAAAA"
MALFORMED_IDS = [
    "..%2F..%2Fetc",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "x" * 300,
    "A" * 21 + "%00",
    "A" * 21 + "%2F",
    "%E2%98%83" * 22,
    "abc%27%20OR%20%271%27%3D%271",
    "A" * 20 + "%0D%0A",
]
ID_ROUTES = [
    "/public/results/{}",
    "/public/results/{}/preview",
    "/r/{}",
    "/api/jobs/{}",
]


def set_job(db_session: Session, job_id: str, **values: object) -> None:
    db_session.execute(update(Job).where(Job.id == job_id).values(**values))
    db_session.commit()


def ingest(live_server: LiveServer, http: requests.Session, photo: bytes) -> requests.Response:
    response = post_photo(http, ingest_url(live_server.url), photo, extra=BOOTH_FIELDS)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def done(live_server: LiveServer, http: requests.Session, jpeg: bytes) -> requests.Response:
    """The booth's response to a successful ingest (X-Job-Id, processed bytes)."""
    return ingest(live_server, http, jpeg)


@pytest.fixture
def job_id(done: requests.Response) -> str:
    return done.headers["X-Job-Id"]


@pytest.fixture
def failed_job_id(live_server: LiveServer, http: requests.Session) -> str:
    response = post_photo(http, ingest_url(live_server.url), b"this is not an image")
    assert response.status_code == 415
    failed: str = response.json()["job_id"]
    return failed


def file_url(live_server: LiveServer, job_id: str) -> str:
    return f"{live_server.url}/public/results/{job_id}"


def page_url(live_server: LiveServer, job_id: str) -> str:
    return f"{live_server.url}/r/{job_id}"


def html_lang(response: requests.Response) -> str:
    match = re.search(r'<html lang="([a-z]+)"', response.text)
    assert match, response.text[:200]
    return match.group(1)


def expire_in(db_session: Session, job_id: str, delta: timedelta) -> None:
    set_job(db_session, job_id, result_expires_at=utcnow() + delta)


def stored_payload(media_root: Path, job_id: str) -> Path:
    return media_root / "results" / "slot-001" / job_id / "payload.jpg"


# --- the result file -------------------------------------------------------------------------


def test_result_file_is_the_processed_image_shown_inline(live_server, http, done, job_id):
    response = http.get(file_url(live_server, job_id))
    assert response.status_code == 200
    assert response.content == done.content
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline")


def test_download_parameter_makes_the_result_an_attachment_with_a_filename(
    live_server, http, job_id
):
    response = http.get(file_url(live_server, job_id), params={"download": "1"})
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert re.search(r'filename="?photochanger-' + re.escape(job_id) + r"\.jpg", disposition)


def test_result_file_with_matching_etag_answers_not_modified(live_server, http, job_id):
    first = http.get(file_url(live_server, job_id))
    etag = first.headers["ETag"]
    again = http.get(file_url(live_server, job_id), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_result_file_unchanged_since_last_modified_answers_not_modified(live_server, http, job_id):
    first = http.get(file_url(live_server, job_id))
    last_modified = first.headers["Last-Modified"]
    again = http.get(file_url(live_server, job_id), headers={"If-Modified-Since": last_modified})
    assert again.status_code == 304


def test_result_file_serves_a_byte_range(live_server, http, done, job_id):
    response = http.get(file_url(live_server, job_id), headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response.content == done.content[:100]
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(done.content)}"


def test_result_file_is_not_cached_past_its_expiry(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(seconds=60))
    response = http.get(file_url(live_server, job_id))
    cache_control = response.headers["Cache-Control"]
    assert "public" not in cache_control
    max_age = re.search(r"max-age=(\d+)", cache_control)
    assert max_age is None or int(max_age.group(1)) <= 60


def test_result_file_asks_search_engines_not_to_index_it(live_server, http, job_id):
    response = http.get(file_url(live_server, job_id))
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_preview_is_a_webp_no_larger_than_512_pixels(live_server, http, job_id):
    response = http.get(file_url(live_server, job_id) + "/preview")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/webp"
    preview = Image.open(io.BytesIO(response.content))
    assert preview.format == "WEBP"
    assert max(preview.size) <= 512
    assert max(preview.size) == 512  # the 640 px photo was shrunk, not kept


def test_unknown_result_is_404_result_not_found(live_server, http):
    response = http.get(file_url(live_server, UNKNOWN_ID))
    assert response.status_code == 404
    assert response.json()["failure_reason"] == "result_not_found"


@pytest.mark.parametrize("route", ID_ROUTES)
@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_malformed_job_ids_are_404_and_never_a_server_error(live_server, http, route, bad_id):
    response = http.get(live_server.url + route.format(bad_id))
    assert response.status_code == 404


def test_result_past_its_expiry_is_410_although_the_file_is_still_there(
    live_server, http, db_session, media_root, job_id
):
    expire_in(db_session, job_id, timedelta(seconds=-1))
    assert stored_payload(media_root, job_id).is_file()
    response = http.get(file_url(live_server, job_id))
    assert response.status_code == 410
    assert response.json()["failure_reason"] == "result_expired"


def test_preview_past_its_expiry_is_410(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(seconds=-1))
    response = http.get(file_url(live_server, job_id) + "/preview")
    assert response.status_code == 410
    assert response.json()["failure_reason"] == "result_expired"


def test_cleaned_result_is_410(live_server, http, db_session, job_id):
    set_job(db_session, job_id, cleaned_at=utcnow())
    response = http.get(file_url(live_server, job_id))
    assert response.status_code == 410
    assert response.json()["failure_reason"] == "result_expired"


def test_failed_job_has_no_result(live_server, http, failed_job_id):
    response = http.get(file_url(live_server, failed_job_id))
    assert response.status_code == 404
    assert response.json()["failure_reason"] == "result_not_found"


def test_result_whose_file_is_missing_is_404(live_server, http, media_root, job_id):
    stored_payload(media_root, job_id).unlink()
    response = http.get(file_url(live_server, job_id))
    assert response.status_code == 404
    assert response.json()["failure_reason"] == "result_not_found"


# --- metadata ----------------------------------------------------------------------------------


@pytest.fixture
def rotated_gps_job_id(live_server, http) -> str:
    photo = make_image_bytes(640, 480, with_gps=True, exif_orientation=6)
    return ingest(live_server, http, photo).headers["X-Job-Id"]


@pytest.mark.parametrize("suffix", ["", "/preview"])
def test_served_images_carry_no_exif_gps_or_serial(live_server, http, rotated_gps_job_id, suffix):
    response = http.get(file_url(live_server, rotated_gps_job_id) + suffix)
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert len(image.getexif()) == 0
    assert "exif" not in image.info
    assert b"SERIAL-123456" not in response.content
    assert b"CameraMaker" not in response.content


@pytest.mark.parametrize("suffix", ["", "/preview"])
def test_served_images_are_turned_upright_by_the_exif_orientation(
    live_server, http, rotated_gps_job_id, suffix
):
    response = http.get(file_url(live_server, rotated_gps_job_id) + suffix)
    width, height = Image.open(io.BytesIO(response.content)).size
    assert height > width


# --- the guest page ----------------------------------------------------------------------------


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


# --- the job status API ------------------------------------------------------------------------


def test_job_api_reports_a_finished_job_and_its_result(live_server, http, db_session, job_id):
    response = http.get(f"{live_server.url}/api/jobs/{job_id}")
    assert response.status_code == 200
    body = response.json()
    expires_at = db_session.get(Job, job_id).result_expires_at
    assert body["job_id"] == job_id
    assert body["status"] == "done"
    assert body["failure_reason"] is None
    assert body["result_mime"] == "image/jpeg"
    assert body["result_available"] is True
    assert datetime.fromisoformat(body["result_expires_at"]) == expires_at
    assert body["result_url"] == file_url(live_server, job_id)
    assert body["page_url"] == page_url(live_server, job_id)


def test_job_api_never_shows_client_metadata(live_server, http, job_id):
    response = http.get(f"{live_server.url}/api/jobs/{job_id}")
    assert response.status_code == 200
    body = response.json()
    for hidden in ("client_meta", "idempotency_key", "input_sha256", "failure_message"):
        assert hidden not in body
    for name, value in BOOTH_FIELDS.items():
        assert name not in response.text
        assert value not in response.text


def test_job_api_reports_a_failed_job_without_a_result(live_server, http, failed_job_id):
    body = http.get(f"{live_server.url}/api/jobs/{failed_job_id}").json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == "unsupported_media_type"
    assert body["result_available"] is False
    assert body["result_url"] is None


def test_job_api_reports_an_expired_result_as_unavailable(live_server, http, db_session, job_id):
    expire_in(db_session, job_id, timedelta(seconds=-1))
    body = http.get(f"{live_server.url}/api/jobs/{job_id}").json()
    assert body["status"] == "done"
    assert body["result_available"] is False
    assert body["result_url"] is None


def test_job_api_for_an_unknown_job_is_404_json(live_server, http):
    response = http.get(f"{live_server.url}/api/jobs/{UNKNOWN_ID}")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["failure_reason"] == "job_not_found"


def test_job_api_is_not_stored_by_caches(live_server, http, job_id):
    response = http.get(f"{live_server.url}/api/jobs/{job_id}")
    assert "no-store" in response.headers["Cache-Control"]


def test_job_api_is_documented_in_openapi_without_a_token(live_server, http):
    document = http.get(f"{live_server.url}/api/openapi.json").json()
    operation = document["paths"]["/api/jobs/{job_id}"]["get"]
    assert operation["tags"] == ["jobs"]
    assert not operation.get("security")
    assert set(operation["responses"]) >= {"200", "404"}
    ok_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok_schema["$ref"].endswith("/PublicJob")
    fields = document["components"]["schemas"]["PublicJob"]["properties"]
    assert "client_meta" not in fields
    assert {"job_id", "status", "result_available", "page_url"} <= set(fields)
