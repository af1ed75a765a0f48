"""Forwarded headers count only from the configured proxies; a forged Host never starts a link."""

from __future__ import annotations

import pytest

from app.config import Config
from app.ops.serve import gunicorn_command
from app.proxy import host_is_trusted
from tests.support.admin import post_login
from tests.support.ingest import ingest_url, post_photo
from tests.support.servers import serve_app


def eleventh_login_after_ten_failures_from_rotating_ips(base_url: str, http) -> int:
    for n in range(10):
        http.headers["X-Forwarded-For"] = f"203.0.113.{n}"
        post_login(http, base_url, "wrong", username=f"guess{n}")
    http.headers["X-Forwarded-For"] = "203.0.113.99"
    return post_login(http, base_url, "wrong", username="guess-last").status_code


def test_without_a_proxy_a_rotating_x_forwarded_for_does_not_escape_the_ip_throttle(
    make_config, http, admin_account
):
    with serve_app(make_config(proxy_hops=0)) as base_url:
        assert eleventh_login_after_ten_failures_from_rotating_ips(base_url, http) == 429


def test_forwarded_headers_from_a_client_that_is_not_the_proxy_are_ignored(
    make_config, http, admin_account
):
    with serve_app(make_config(proxy_hops=1, trusted_proxies="192.0.2.10")) as base_url:
        assert eleventh_login_after_ten_failures_from_rotating_ips(base_url, http) == 429


def test_forwarded_for_from_the_trusted_proxy_names_the_client(make_config, http, admin_account):
    with serve_app(make_config(proxy_hops=1, trusted_proxies="127.0.0.1")) as base_url:
        assert eleventh_login_after_ten_failures_from_rotating_ips(base_url, http) == 401


def test_a_forged_host_never_starts_the_result_link(live_server, http, jpeg):
    response = post_photo(
        http,
        ingest_url(live_server.url),
        jpeg,
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 200
    assert response.headers["X-Result-Url"] == f"/r/{response.headers['X-Job-Id']}"


def test_a_forged_forwarded_proto_does_not_make_links_https(live_server, http, jpeg):
    response = post_photo(
        http, ingest_url(live_server.url), jpeg, headers={"X-Forwarded-Proto": "https"}
    )
    assert response.headers["X-Result-Url"].startswith(f"{live_server.url}/r/")


def test_public_base_url_starts_every_link_whatever_the_host(make_config, http, jpeg):
    config = make_config(public_base_url="https://photos.example")
    with serve_app(config) as base_url:
        response = post_photo(http, ingest_url(base_url), jpeg, headers={"Host": "evil.example"})
    assert response.headers["X-Result-Url"].startswith("https://photos.example/r/")


@pytest.mark.parametrize(
    ("host", "trusted"),
    [
        ("127.0.0.1:8000", True),
        ("localhost", True),
        ("[::1]:8000", True),
        ("LOCALHOST:80", True),
        ("evil.example", False),
        ("127.0.0.1.evil.example", False),
        ("evil.example:127.0.0.1", False),
    ],
)
def test_only_allowed_host_names_are_trusted_without_a_proxy(host, trusted):
    allowed = Config(_env_file=None).allowed_host_names
    assert host_is_trusted({}, host, allowed) is trusted


def test_gunicorn_believes_forwarded_headers_only_from_the_configured_proxies():
    direct = Config(_env_file=None, proxy_hops=0)
    proxied = Config(_env_file=None, proxy_hops=1, trusted_proxies="10.0.0.5, 172.28.0.0/16")
    assert "--forwarded-allow-ips=" in gunicorn_command(direct)
    assert "--forwarded-allow-ips=10.0.0.5/32,172.28.0.0/16" in gunicorn_command(proxied)


def test_a_malformed_trusted_proxy_is_refused_at_start():
    with pytest.raises(ValueError, match="not an IP address or network"):
        Config(_env_file=None, trusted_proxies="nginx")
