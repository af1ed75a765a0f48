"""The result file and its preview over real HTTP: caching, expiry, bad ids, stripped metadata."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from app.db import utcnow
from tests.support.images import make_image_bytes
from tests.support.results import UNKNOWN_ID, expire_in, file_url, ingest, set_job, stored_payload

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
