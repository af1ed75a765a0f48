"""Media files handed to nginx: with MEDIA_ACCEL_REDIRECT set, every route that sends a stored file
answers with an empty body, ``X-Accel-Redirect`` to the file's path under the prefix and the same
headers it sends without the setting."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from app.config import Config
from app.media.delivery import send_media
from app.media.provider_links import ProviderMediaLinks
from app.media.storage import MediaStore, UnsafePath
from tests.support.images import make_image_bytes
from tests.support.results import file_url, ingest

PREFIX = "/_protected_media/"


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config(media_accel_redirect=PREFIX)


def test_a_result_is_handed_to_nginx_with_its_headers_and_no_body(live_server, http, jpeg):
    job_id = ingest(live_server, http, jpeg).headers["X-Job-Id"]

    response = http.get(file_url(live_server, job_id), params={"download": "1"})

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["X-Accel-Redirect"] == f"{PREFIX}results/slot-001/{job_id}/payload.jpg"
    assert response.headers["Content-Type"] == "image/jpeg"
    assert re.match(r"private, max-age=\d+$", response.headers["Cache-Control"])
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=photochanger-{job_id}.jpg"
    )


def test_a_result_preview_is_handed_to_nginx_inline(live_server, http, jpeg, media_root):
    job_id = ingest(live_server, http, jpeg).headers["X-Job-Id"]

    response = http.get(f"{file_url(live_server, job_id)}/preview")

    relative = f"results/slot-001/{job_id}/preview.webp"
    assert (media_root / relative).is_file()
    assert response.headers["X-Accel-Redirect"] == PREFIX + relative
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["Content-Disposition"] == "inline; filename=preview.webp"
    assert response.content == b""


def test_an_expired_or_unknown_result_is_still_refused_by_the_app(live_server, http):
    response = http.get(file_url(live_server, "AAAAAAAAAAAAAAAAAAAAAA"))
    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response.headers


def test_a_template_thumbnail_is_handed_to_nginx_for_admins(admin_http):
    admin_http.post(
        "/admin/slots/slot-001/templates?lang=en",
        htmx=True,
        files={"file": ("face.png", make_image_bytes(300, 200, "PNG"), "image/png")},
    )
    page = admin_http.get("/admin/slots/slot-001").text
    media_id = re.search(r'src="/admin/slots/slot-001/templates/([0-9a-f]+)"', page)
    assert media_id

    response = admin_http.get(f"/admin/slots/slot-001/templates/{media_id.group(1)}")

    assert response.headers["X-Accel-Redirect"] == (
        f"{PREFIX}templates/slot-001/{media_id.group(1)}.preview.webp"
    )
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    assert response.content == b""


def test_a_provider_media_link_is_handed_to_nginx_uncached(live_server, http, config):
    links = ProviderMediaLinks(MediaStore(config.media_root), "test-secret-key", live_server.url)
    url = links.publish("job-1", "input.jpg", b"photo", "image/jpeg", time.time() + 30)

    response = http.get(url)

    assert response.headers["X-Accel-Redirect"] == f"{PREFIX}temp/provider-media/job-1/input.jpg"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content == b""


def test_without_the_setting_the_app_sends_the_bytes_itself(make_config, media_root, app):
    store = MediaStore(media_root)
    (media_root / "results").mkdir(exist_ok=True)
    (media_root / "results" / "a.jpg").write_bytes(b"jpeg bytes")
    with app.test_request_context():
        response = send_media(store, media_root / "results" / "a.jpg", "image/jpeg", None)
        response.direct_passthrough = False
        assert response.get_data() == b"jpeg bytes"
    assert "X-Accel-Redirect" not in response.headers
    assert response.headers["Content-Disposition"] == "inline; filename=a.jpg"
    assert make_config().media_accel_redirect is None


def test_a_non_ascii_download_name_gets_the_same_header_as_send_file(media_root, app):
    store = MediaStore(media_root)
    (media_root / "a.jpg").write_bytes(b"x")
    with app.test_request_context():
        accel = send_media(store, media_root / "a.jpg", "image/jpeg", PREFIX, "фото.jpg", True)
        direct = send_media(store, media_root / "a.jpg", "image/jpeg", None, "фото.jpg", True)
        direct.close()
    assert accel.headers["Content-Disposition"] == direct.headers["Content-Disposition"]


def test_a_file_outside_the_media_root_is_never_handed_over(media_root, tmp_path, app):
    outside = tmp_path / "secret.txt"
    outside.write_text("not media")
    (media_root / "link.jpg").symlink_to(outside)
    store = MediaStore(media_root)
    with app.test_request_context():
        for path in (outside, media_root / "link.jpg", media_root / ".." / "secret.txt"):
            with pytest.raises(UnsafePath):
                send_media(store, path, "image/jpeg", PREFIX)
            with pytest.raises(UnsafePath):
                send_media(store, path, "image/jpeg", None)


@pytest.mark.parametrize(
    "prefix", ["_protected_media/", "/_protected_media", "/../media/", "/a b/", "http://x/", "/"]
)
def test_a_prefix_that_is_not_a_plain_url_folder_is_refused(make_config, prefix):
    with pytest.raises(ValidationError, match="media_accel_redirect"):
        make_config(media_accel_redirect=prefix)
