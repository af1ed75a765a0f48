"""Ids and file names in URLs never reach a file outside the media volume, and odd ones get a
4xx, never a 500: every URL rule with a parameter gets traversal and malformed values."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.support.admin import ADMIN_PASSWORD, ADMIN_USERNAME, AdminTestClient

ODD_VALUES = [
    "..",
    ".",
    "%2e%2e",
    "%252e%252e",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2Fcanary.txt",
    "..%2F..%2Fcanary.txt",
    "..%2F..%2F..%2Fcanary.txt",
    "..%5C..%5Ccanary.txt",
    "%2Fetc%2Fpasswd",
    "slot-001%00",
    "%00",
    "x" * 300,
    "%EF%BC%8E%EF%BC%8E%EF%BC%8Fcanary.txt",  # fullwidth "．．／"
    "%D1%95lot-001",  # Cyrillic "ѕ" for "s"
    "slot%E2%80%90001",  # hyphen look-alike
    "%C0%AE%C0%AE%C0%AF",  # overlong UTF-8 "../"
]
"""Already percent-encoded, as they appear in a request line."""

VALID_ARGUMENTS = {
    "slot_id": "slot-001",
    "job_id": "AbCdEfGhIjKlMnOpQrStUv",
    "media_id": "nonexistent",
    "token": "nonexistent",
    "provider": "gemini",
    "filename": "app.css",
}
ALLOWED_STATUSES = {400, 401, 403, 404, 405, 410, 422}
SAFE_METHODS = {"HEAD", "OPTIONS"}
ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def rules_with_arguments(app: Flask) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.arguments
        for method in sorted((rule.methods or set()) - SAFE_METHODS)
    ]


def url_for_rule(rule: Rule, odd_argument: str, odd_value: str) -> str:
    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        return odd_value if name == odd_argument else VALID_ARGUMENTS[name]

    return ARGUMENT.sub(fill, rule.rule)


def assert_slashes_merged(url: str, location: str) -> None:
    """Werkzeug answers ``//`` in a path with a redirect to the same path with one slash."""
    target = urlsplit(location)
    assert target.netloc in ("", "localhost"), location
    assert target.path == re.sub("/+", "/", unquote(url)), location


def bearer_token(client: FlaskClient) -> str:
    response = client.post(
        "/api/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert isinstance(body, dict)
    token: str = body["access_token"]
    return token


def test_every_rule_with_an_id_knows_its_valid_arguments(app):
    names = {name for rule, _ in rules_with_arguments(app) for name in rule.arguments}
    assert names <= set(VALID_ARGUMENTS)
    assert {"slot_id", "job_id", "media_id", "token"} <= names


def test_odd_ids_get_a_client_error_and_never_a_file_outside_the_volume(
    app, admin_client: AdminTestClient, canary
):
    token = bearer_token(app.test_client())
    anonymous = app.test_client()
    answers: list[tuple[str, str, int]] = []
    for rule, method in rules_with_arguments(app):
        for argument in sorted(rule.arguments):
            for value in ODD_VALUES:
                url = url_for_rule(rule, argument, value)
                if url.startswith("/admin/"):
                    response = admin_client.request(method, url)
                elif url.startswith("/api/") and not url.startswith("/api/ingest/"):
                    headers = {"Authorization": f"Bearer {token}"}
                    body_json: dict[str, str] | None = None if method == "GET" else {}
                    response = anonymous.open(url, method=method, headers=headers, json=body_json)
                else:
                    response = anonymous.open(url, method=method)
                body = response.get_data(as_text=True)
                assert canary not in body, f"{method} {url} served a file outside the volume"
                assert "root:x:0:0" not in body, f"{method} {url} served /etc/passwd"
                if response.status_code == 308:
                    assert_slashes_merged(url, response.location)
                else:
                    answers.append((method, url, response.status_code))
    unexpected = [answer for answer in answers if answer[2] not in ALLOWED_STATUSES]
    assert unexpected == []
    assert len(answers) > 400
