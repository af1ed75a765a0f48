"""Turbotext's finished results: where the image link is, downloading it, and failures."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer

from app.providers.base import ProviderNoImage, ProviderRejected
from app.providers.turbotext import TurbotextProvider, on_allowed_host, result_hosts
from tests.support.fakes.turbotext import result_png
from tests.support.turbotext_driver import DEEPFAKE, GENERATE, request_for


def test_face_not_detected_is_a_provider_error_naming_the_code(provider, fake):
    fake.behaviour.result_error = "face_not_detected"
    with pytest.raises(ProviderRejected, match="face_not_detected") as raised:
        provider.process(request_for(DEEPFAKE, templates=1))
    assert "no face" in raised.value.message
    assert fake.create_calls == 1


def test_the_result_link_under_data_is_used_without_a_top_level_one(provider, fake):
    fake.behaviour.result_shape = "data"
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert len(fake.downloads) == 1


def test_a_relative_data_image_path_is_resolved_against_the_base_url(provider, fake):
    fake.behaviour.result_shape = "relative_image"
    fake.behaviour.result_image = result_png((40, 30))
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image


def test_a_result_without_any_image_link_is_provider_no_image(provider, fake):
    fake.behaviour.result_shape = "absolute_image"
    fake.behaviour.result_url = " "
    with pytest.raises(ProviderNoImage):
        provider.process(request_for(GENERATE))


def test_the_download_carries_the_bearer_key_to_turbotext(provider, fake):
    provider.process(request_for(GENERATE))
    assert fake.downloads[0]["Authorization"] == f"Bearer {fake.api_key}"


def test_a_result_on_another_allowed_host_is_downloaded_without_the_key(
    fake, links, http, httpserver: HTTPServer
):
    provider = TurbotextProvider(
        fake.api_key, fake.url, http, links, extra_result_hosts="localhost", poll_interval=0.05
    )
    httpserver.expect_request("/cdn/result.png").respond_with_data(
        result_png(), content_type="image/png"
    )
    fake.behaviour.result_url = httpserver.url_for("/cdn/result.png")
    assert urlsplit(fake.behaviour.result_url).hostname == "localhost"
    assert provider.process(request_for(GENERATE)).data == result_png()
    request, _ = httpserver.log[0]
    assert "Authorization" not in request.headers


def test_a_result_on_a_host_turbotext_does_not_own_is_refused_unfetched(
    provider, fake, httpserver: HTTPServer
):
    httpserver.expect_request("/cdn/result.png").respond_with_data(
        result_png(), content_type="image/png"
    )
    fake.behaviour.result_url = httpserver.url_for("/cdn/result.png")
    with pytest.raises(ProviderRejected, match="localhost") as raised:
        provider.process(request_for(GENERATE))
    assert raised.value.failure_reason == "provider_error"
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("link", "allowed"),
    [
        ("https://www.turbotext.ru/download.php?f=1", True),
        ("https://turbotext.ru/x.png", True),
        ("https://cdn.turbotext.ru/x.png", True),
        ("https://TURBOTEXT.RU./x.png", False),
        ("https://evilturbotext.ru/x.png", False),
        ("https://turbotext.ru.evil.example/x.png", False),
        ("https://turbotext.ru@evil.example/x.png", False),
        ("https://images.example.net/x.png", True),
        ("http://169.254.169.254/latest/meta-data", False),
    ],
)
def test_result_links_are_allowed_only_on_turbotexts_hosts(link, allowed):
    hosts = result_hosts("https://www.turbotext.ru", "images.example.net, ")
    assert on_allowed_host(link, hosts) is allowed


def test_a_failing_download_is_retried_within_the_deadline(provider, fake):
    fake.behaviour.download_statuses = [503]
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert len(fake.downloads) == 2


def test_a_missing_result_file_is_provider_no_image(provider, fake):
    fake.behaviour.download_statuses = [404]
    with pytest.raises(ProviderNoImage, match="404"):
        provider.process(request_for(GENERATE))


def test_a_result_link_serving_no_image_is_provider_no_image(provider, fake):
    fake.behaviour.result_image = b"<html>not found</html>"
    with pytest.raises(ProviderNoImage, match="not serve an image"):
        provider.process(request_for(GENERATE))
