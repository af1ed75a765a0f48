"""The JSON API's bearer tokens: login, and 401/403 flat JSON for missing, tampered, expired,
foreign and under-scoped tokens."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
import requests

from app.auth.tokens import issue_token
from app.db import utcnow
from tests.support.admin import ADMIN_PASSWORD, ADMIN_USERNAME

PROTECTED = "/api/slots"


def get_protected(
    http: requests.Session, base_url: str, token: str | None = None, header: str | None = None
) -> requests.Response:
    headers = {"Authorization": header or f"Bearer {token}"} if (token or header) else {}
    return http.get(base_url + PROTECTED, headers=headers)


def assert_api_error(response: requests.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["failure_reason"] == reason
    assert body["message"]
    return body


def test_login_returns_a_twelve_hour_bearer_token(live_server, http, admin_account, config):
    response = http.post(
        f"{live_server.url}/api/login",
        json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 3600
    claims = jwt.decode(body["access_token"], config.jwt_key, algorithms=["HS256"])
    assert claims["sub"] == ADMIN_USERNAME
    assert claims["scope"] == "admin"


def test_login_with_a_wrong_password_is_401(live_server, http, admin_account):
    response = http.post(
        f"{live_server.url}/api/login", json={"username": ADMIN_USERNAME, "password": "nope"}
    )
    assert_api_error(response, 401, "invalid_credentials")


def test_login_with_unknown_fields_is_422_with_field_details(live_server, http, admin_account):
    response = http.post(
        f"{live_server.url}/api/login",
        json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "remember": True},
    )
    body = assert_api_error(response, 422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["remember"]


def test_login_without_a_password_is_422(live_server, http, admin_account):
    response = http.post(f"{live_server.url}/api/login", json={"username": ADMIN_USERNAME})
    body = assert_api_error(response, 422, "validation_error")
    assert body["errors"][0]["field"] == "password"


def test_api_login_is_throttled_like_the_form(live_server, http, admin_account):
    for _ in range(10):
        http.post(
            f"{live_server.url}/api/login", json={"username": ADMIN_USERNAME, "password": "x"}
        )
    response = http.post(
        f"{live_server.url}/api/login",
        json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
    )
    assert_api_error(response, 429, "login_throttled")
    assert int(response.headers["Retry-After"]) > 800


def test_valid_token_opens_the_api(live_server, http, api_token):
    assert get_protected(http, live_server.url, api_token).status_code == 200


def test_missing_token_is_401_with_a_bearer_challenge(live_server, http):
    response = get_protected(http, live_server.url)
    assert_api_error(response, 401, "token_missing")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic YWRtaW46eA==", "Bearer", "Bearer not.a.jwt"])
def test_malformed_authorization_is_401(live_server, http, header):
    response = get_protected(http, live_server.url, header=header)
    assert response.status_code == 401


def test_tampered_token_is_401(live_server, http, api_token):
    header, payload, signature = api_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = get_protected(http, live_server.url, f"{header}.{forged}.{signature}")
    assert_api_error(response, 401, "token_invalid")


def test_token_signed_with_another_key_is_401(live_server, http):
    foreign_key = "some-other-key-of-at-least-32-bytes"
    token = issue_token(foreign_key, ADMIN_USERNAME, utcnow(), 0).access_token
    assert_api_error(get_protected(http, live_server.url, token), 401, "token_invalid")


def test_unsigned_token_is_401(live_server, http):
    claims = {"sub": ADMIN_USERNAME, "scope": "admin", "iat": 1, "exp": 4_000_000_000}
    token = jwt.encode(claims, key="", algorithm="none")
    assert_api_error(get_protected(http, live_server.url, token), 401, "token_invalid")


def test_expired_token_is_401(live_server, http, config):
    issued = utcnow() - timedelta(hours=13)
    token = issue_token(config.jwt_key, ADMIN_USERNAME, issued, 0).access_token
    assert_api_error(get_protected(http, live_server.url, token), 401, "token_expired")


def test_token_without_the_admin_scope_is_403(live_server, http, config):
    token = issue_token(config.jwt_key, ADMIN_USERNAME, utcnow(), 0, scope="viewer").access_token
    assert_api_error(get_protected(http, live_server.url, token), 403, "forbidden")


def test_jwt_signing_key_from_the_environment_is_used(make_config):
    config = make_config(jwt_signing_key="explicit-signing-key")
    assert config.jwt_key == "explicit-signing-key"
    assert make_config().jwt_key != make_config(secret_key="another").jwt_key
