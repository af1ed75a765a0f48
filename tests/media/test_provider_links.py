"""Signed, expiring public links to a job's inputs (``/public/provider-media/<token>``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from app.config import Config
from app.media.provider_links import LinkExpired, LinkInvalid, ProviderMediaLinks
from app.media.storage import MediaStore, UnsafePath
from tests.support.images import make_image_bytes

JOB_A = "job-aaaaaaaaaaaaaaaa"
JOB_B = "job-bbbbbbbbbbbbbbbb"


@pytest.fixture
def links(live_server, config: Config) -> ProviderMediaLinks:
    """Links the live app serves: same media root and secret, its own address."""
    assert config.secret_key
    return ProviderMediaLinks(MediaStore(config.media_root), config.secret_key, live_server.url)


@pytest.fixture
def offline_links(tmp_path: Path) -> ProviderMediaLinks:
    return ProviderMediaLinks(MediaStore(tmp_path), "secret", "https://photo.example/")


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def in_an_hour() -> float:
    return time.time() + 3600


def assert_refused(url: str, status: int, reason: str) -> None:
    """``status`` with the JSON failure reason ``reason`` (and no file)."""
    response = requests.get(url, timeout=5)
    assert response.status_code == status
    assert response.json()["failure_reason"] == reason


def test_a_published_input_is_served_with_its_type_until_the_deadline(links):
    photo = make_image_bytes(64, 48)
    url = links.publish(JOB_A, "photo.jpg", photo, "image/jpeg", in_an_hour())
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    assert response.content == photo
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_link_is_built_from_the_public_base_url(offline_links):
    url = offline_links.publish(JOB_A, "photo.jpg", b"x", "image/jpeg", in_an_hour())
    assert url.startswith("https://photo.example/public/provider-media/")


def test_inputs_are_written_in_the_jobs_own_temp_folder(offline_links, tmp_path):
    offline_links.publish(JOB_A, "photo.jpg", b"x", "image/jpeg", in_an_hour())
    assert (tmp_path / "temp" / "provider-media" / JOB_A / "photo.jpg").read_bytes() == b"x"


def test_resolve_refuses_a_link_from_its_expiry_time_on(offline_links):
    expires_at = in_an_hour()
    token = token_of(offline_links.publish(JOB_A, "photo.jpg", b"x", "image/jpeg", expires_at))
    assert offline_links.resolve(token, now=expires_at - 1).path.name == "photo.jpg"
    with pytest.raises(LinkExpired):
        offline_links.resolve(token, now=expires_at + 0.001)


def test_a_link_past_its_deadline_answers_410_over_http(links):
    url = links.publish(JOB_A, "photo.jpg", b"x", "image/jpeg", time.time() + 0.5)
    assert requests.get(url, timeout=5).status_code == 200
    time.sleep(0.6)
    assert_refused(url, 410, "link_expired")


def test_a_link_of_a_finished_job_answers_410_once_its_files_are_discarded(links):
    url = links.publish(JOB_A, "photo.jpg", b"x", "image/jpeg", in_an_hour())
    links.discard(JOB_A)
    assert_refused(url, 410, "link_expired")


def test_a_forged_token_answers_404(links):
    url = links.publish(JOB_A, "photo.jpg", b"x", "image/jpeg", in_an_hour())
    # Not the last character: its low bits are padding, so changing it may keep the same bytes.
    forged = url[:-5] + ("A" if url[-5] != "A" else "B") + url[-4:]
    assert_refused(forged, 404, "link_not_found")


def test_an_unknown_token_answers_404(links, live_server):
    assert_refused(f"{live_server.url}/public/provider-media/nonsense", 404, "link_not_found")


def test_a_token_signed_with_another_secret_answers_404(links, config, live_server):
    other = ProviderMediaLinks(MediaStore(config.media_root), "another-secret", live_server.url)
    url = other.publish(JOB_A, "photo.jpg", b"x", "image/jpeg", in_an_hour())
    assert_refused(url, 404, "link_not_found")


def test_a_token_reaches_only_its_own_jobs_file(links):
    url_a = links.publish(JOB_A, "photo.jpg", b"photo of a", "image/jpeg", in_an_hour())
    url_b = links.publish(JOB_B, "photo.jpg", b"photo of b", "image/jpeg", in_an_hour())
    assert requests.get(url_a, timeout=5).content == b"photo of a"
    payload_b, _ = token_of(url_b).rsplit(".", 1)
    _, signature_a = token_of(url_a).rsplit(".", 1)
    assert_refused(
        url_a.replace(token_of(url_a), f"{payload_b}.{signature_a}"), 404, "link_not_found"
    )


def test_discarding_one_job_keeps_the_other_jobs_files(offline_links):
    offline_links.publish(JOB_A, "photo.jpg", b"a", "image/jpeg", in_an_hour())
    token_b = token_of(offline_links.publish(JOB_B, "photo.jpg", b"b", "image/jpeg", in_an_hour()))
    offline_links.discard(JOB_A)
    assert offline_links.resolve(token_b).path.read_bytes() == b"b"


@pytest.mark.parametrize(("job_id", "name"), [("../results", "photo.jpg"), (JOB_A, "../x.jpg")])
def test_unsafe_job_or_file_names_are_refused_when_publishing(offline_links, job_id, name):
    with pytest.raises(UnsafePath):
        offline_links.publish(job_id, name, b"x", "image/jpeg", in_an_hour())


def test_garbage_tokens_are_invalid_not_errors(offline_links):
    with pytest.raises(LinkInvalid):
        offline_links.resolve("not-even-a-token")
