"""Admin login over real HTTP: session cookie, CSRF, redirects, logout and what gets logged."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
import requests
from sqlalchemy import func, select

from app.auth.models import LoginAttempt
from app.auth.routes import safe_next
from tests.support.admin import ADMIN_PASSWORD, ADMIN_USERNAME, AdminClient, post_login
from tests.support.servers import serve_app


def test_login_page_is_russian_by_default(live_server, http):
    page = http.get(f"{live_server.url}/admin/login")
    assert page.status_code == 200
    assert 'lang="ru"' in page.text
    assert "Войти" in page.text


def test_right_password_opens_the_dashboard(live_server, http, admin_account):
    response = post_login(http, live_server.url, ADMIN_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert http.get(f"{live_server.url}/admin/", allow_redirects=False).status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(live_server, http, admin_account):
    response = post_login(http, live_server.url, ADMIN_PASSWORD)
    cookie = next(
        value
        for name, value in response.raw.headers.items()
        if name.lower() == "set-cookie" and "photochanger_session" in value
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_behind_https(make_config, db_session):
    with serve_app(make_config(public_base_url="https://photos.example.com")) as base_url:
        response = requests.get(f"{base_url}/admin/login", timeout=10)
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_shows_a_message_and_records_the_failure(
    live_server, http, admin_account, db_session
):
    response = post_login(http, live_server.url, "not-the-password")
    assert response.status_code == 401
    assert "Неверное имя пользователя или пароль" in response.text
    assert f'value="{ADMIN_USERNAME}"' in response.text
    failures = db_session.scalar(
        select(func.count()).select_from(LoginAttempt).where(~LoginAttempt.success)
    )
    assert failures == 1


def test_unknown_username_is_refused_like_a_wrong_password(live_server, http, admin_account):
    response = post_login(http, live_server.url, ADMIN_PASSWORD, username="nobody")
    assert response.status_code == 401


def test_empty_fields_are_refused_with_a_message(live_server, http, admin_account):
    response = post_login(http, live_server.url, "")
    assert response.status_code == 400
    assert "form-error" in response.text


def test_login_without_csrf_token_is_refused(live_server, http, admin_account):
    response = http.post(
        f"{live_server.url}/admin/login",
        data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert http.get(f"{live_server.url}/admin/", allow_redirects=False).status_code == 302


def test_admin_pages_redirect_to_login_with_the_page_to_return_to(live_server, http):
    response = http.get(f"{live_server.url}/admin/settings", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=/admin/settings")


def test_htmx_request_without_session_asks_htmx_to_redirect(live_server, http):
    response = http.get(
        f"{live_server.url}/admin/stats", headers={"HX-Request": "true"}, allow_redirects=False
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/admin/login")


def test_login_returns_to_the_requested_page(live_server, http, admin_account):
    response = post_login(http, live_server.url, ADMIN_PASSWORD, next="/admin/stats")
    assert response.headers["Location"] == "/admin/stats"


def test_login_never_redirects_to_another_site(live_server, http, admin_account):
    response = post_login(http, live_server.url, ADMIN_PASSWORD, next="//evil.example/x")
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\\evil.example",
        "/ /evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\x00/evil.example",
        "///evil.example",
        "evil.example",
    ],
)
def test_login_refuses_every_next_that_leaves_the_site(target):
    assert safe_next(unquote(target)) == "/admin/"


def test_login_keeps_a_same_site_path_with_its_query():
    assert safe_next("/admin/jobs?status=failed") == "/admin/jobs?status=failed"


def test_login_with_a_tab_before_a_host_in_next_goes_to_the_dashboard(
    live_server, http, admin_account
):
    response = post_login(http, live_server.url, ADMIN_PASSWORD, next="/\t/evil.example")
    assert response.headers["Location"] == "/admin/"


def test_state_change_without_csrf_header_is_refused(admin_http):
    response = admin_http.request("POST", "/admin/logout", csrf=False)
    assert response.status_code == 400
    assert admin_http.get("/admin/", allow_redirects=False).status_code == 200


def test_logout_ends_the_session(admin_http):
    token = admin_http.csrf_token
    response = admin_http.session.post(
        admin_http.base_url + "/admin/logout", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status_code == 302
    assert admin_http.get("/admin/", allow_redirects=False).status_code == 302


def test_language_choice_survives_login(live_server, admin_account):
    client = AdminClient(live_server.url)
    client.session.get(f"{live_server.url}/admin/login?lang=en")
    client.login()
    assert 'lang="en"' in client.get("/admin/").text


@pytest.mark.slow
def test_logins_are_logged_without_the_password(start_gunicorn, admin_account, tmp_path):
    log_path = tmp_path / "app.log"
    server = start_gunicorn(log_path=log_path, LOG_LEVEL="INFO")
    with requests.Session() as http:
        assert post_login(http, server.url, "Wrong-Guess-77").status_code == 401
        assert post_login(http, server.url, ADMIN_PASSWORD).status_code == 302
    server.stop()
    output = log_path.read_text()
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    logins = {event["event"]: event for event in events if event["event"].startswith("auth.")}
    assert logins["auth.login.failure"]["username"] == ADMIN_USERNAME
    assert logins["auth.login.success"]["username"] == ADMIN_USERNAME
    assert "Wrong-Guess-77" not in output
    assert ADMIN_PASSWORD not in output
