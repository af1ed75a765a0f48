"""Ending admin sessions and API tokens: logout, log out everywhere, a password change and the
absolute lifetime, checked against cookies and tokens saved beforehand."""

from __future__ import annotations

import jwt
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from app.auth.models import Admin, AdminSession
from app.auth.service import set_admin_password
from app.auth.sessions import SESSION_LIFETIME
from app.auth.tokens import issue_token
from app.db import utcnow
from tests.support.admin import ADMIN_USERNAME, AdminClient, AdminTestClient
from tests.support.servers import LiveServer

PROTECTED_PAGE = "/admin/settings"


def opens_settings(base_url: str, cookies: requests.cookies.RequestsCookieJar) -> bool:
    """Whether a fresh browser holding only ``cookies`` gets the settings page."""
    with requests.Session() as browser:
        browser.cookies.update(cookies)
        response = browser.get(base_url + PROTECTED_PAGE, allow_redirects=False, timeout=10)
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]
    return False


def api_status(base_url: str, token: str) -> requests.Response:
    return requests.get(
        f"{base_url}/api/slots", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_a_cookie_saved_before_logout_no_longer_opens_admin_pages(
    live_server: LiveServer, admin_http: AdminClient
):
    saved = admin_http.session.cookies.copy()
    assert opens_settings(live_server.url, saved)

    response = admin_http.post("/admin/logout", data={"csrf_token": admin_http.csrf_token})

    assert response.status_code == 302
    assert not opens_settings(live_server.url, saved)


def test_logout_ends_only_its_own_session(live_server: LiveServer, admin_http: AdminClient):
    other = AdminClient(live_server.url)
    other.login()

    admin_http.post("/admin/logout", data={"csrf_token": admin_http.csrf_token})

    assert opens_settings(live_server.url, other.session.cookies)


def test_log_out_everywhere_ends_every_session_and_api_token(
    live_server: LiveServer, admin_http: AdminClient, api_token: str
):
    other = AdminClient(live_server.url)
    other.login()
    assert api_status(live_server.url, api_token).status_code == 200

    response = admin_http.post("/admin/logout/everywhere")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert not opens_settings(live_server.url, admin_http.session.cookies)
    assert not opens_settings(live_server.url, other.session.cookies)
    revoked = api_status(live_server.url, api_token)
    assert revoked.status_code == 401
    assert revoked.json()["failure_reason"] == "token_revoked"


def test_the_layout_offers_log_out_everywhere_as_a_csrf_protected_form(admin_http: AdminClient):
    page = admin_http.get("/admin/").text
    assert 'action="/admin/logout/everywhere"' in page

    refused = admin_http.request("POST", "/admin/logout/everywhere", csrf=False)

    assert refused.status_code == 400
    assert admin_http.get(PROTECTED_PAGE).status_code == 200


def test_a_new_password_ends_every_session_and_api_token(
    live_server: LiveServer, admin_http: AdminClient, api_token: str, db_session
):
    set_admin_password(db_session, ADMIN_USERNAME, "a-brand-new-password")

    assert not opens_settings(live_server.url, admin_http.session.cookies)
    assert api_status(live_server.url, api_token).json()["failure_reason"] == "token_revoked"


def test_a_token_from_before_the_generation_claim_is_refused(
    live_server: LiveServer, admin_account: str, config
):
    token = issue_token(config.jwt_key, ADMIN_USERNAME, utcnow(), 0).access_token
    assert api_status(live_server.url, token).status_code == 200
    legacy = jwt.encode(
        {k: v for k, v in jwt.decode(token, config.jwt_key, ["HS256"]).items() if k != "gen"},
        config.jwt_key,
        algorithm="HS256",
    )
    answer = api_status(live_server.url, legacy)
    assert answer.status_code == 401
    assert answer.json()["failure_reason"] == "token_invalid"


def test_a_session_ends_twelve_hours_after_login_however_active(
    client: FlaskClient, admin_client: AdminTestClient
):
    assert admin_client.get(PROTECTED_PAGE, allow_redirects=False).status_code == 200
    with client.session_transaction() as cookie:
        cookie["login_at"] -= int(SESSION_LIFETIME.total_seconds())

    response = admin_client.get(PROTECTED_PAGE, allow_redirects=False)

    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_a_session_row_older_than_the_lifetime_opens_nothing(
    client: FlaskClient, admin_client: AdminTestClient, db_session
):
    row = db_session.scalars(select(AdminSession)).one()
    row.created_at = utcnow() - SESSION_LIFETIME
    db_session.commit()

    assert admin_client.get(PROTECTED_PAGE, allow_redirects=False).status_code == 302


def test_a_login_records_one_session_row_and_logout_deletes_it(
    admin_client: AdminTestClient, db_session
):
    admin = db_session.scalars(select(Admin)).one()
    assert db_session.scalars(select(AdminSession.admin_id)).all() == [admin.id]

    admin_client.post("/admin/logout", data={"csrf_token": admin_client.csrf_token})

    db_session.expire_all()
    assert db_session.scalars(select(AdminSession)).all() == []
