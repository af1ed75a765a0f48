"""Every state-changing admin form needs the session's CSRF token; the bearer-token API cannot be
driven with the session cookie at all, so a forged cross-site form gets nowhere."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from app.settings.models import SettingRow
from app.slots.models import Slot
from tests.support.admin import ADMIN_PASSWORD, ADMIN_USERNAME, AdminTestClient

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ARGUMENTS = {"slot_id": "slot-001", "media_id": "nonexistent", "provider": "gemini"}
ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
FORM = {
    "password": "Forged-Password-99",
    "api_key": "forged-key-0123456789abcdef",
    "minutes": "60",
    "sync_response_seconds": "30",
    "result_ttl_hours": "1",
    "telegram_daily_limit": "1",
    "display_name": "Forged",
    "is_active": "off",
}
"""Values that would change something, were the form accepted."""
FORGED_TOKEN = "forged-csrf-token"


def unsafe_routes(app: Flask, prefix: str) -> list[tuple[str, str]]:
    def url(rule: Rule) -> str:
        return ARGUMENT.sub(lambda found: ARGUMENTS[found.group(1)], rule.rule)

    return sorted(
        (method, url(rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix)
        for method in (rule.methods or set()) & UNSAFE_METHODS
    )


def stored_state(session: Session) -> dict[str, Any]:
    """Every setting and every slot's version and activity: what an accepted form would change."""
    session.rollback()
    settings = {
        row.key: row.value for row in session.execute(select(SettingRow.key, SettingRow.value))
    }
    slots = session.execute(select(Slot.slot_id, Slot.version, Slot.is_active))
    return {"settings": settings, "slots": sorted(tuple(row) for row in slots)}


def test_every_admin_form_is_enumerated(app):
    routes = unsafe_routes(app, "/admin/")
    assert ("POST", "/admin/login") in routes
    assert ("POST", "/admin/logout") in routes
    assert ("POST", "/admin/settings/password/generate") in routes
    assert len(routes) >= 20


def test_admin_forms_without_a_csrf_token_are_refused_and_change_nothing(
    app, admin_client: AdminTestClient, db_session
):
    before = stored_state(db_session)
    refused = {
        (method, url): admin_client.request(method, url, csrf=False, data=FORM).status_code
        for method, url in unsafe_routes(app, "/admin/")
    }
    assert set(refused.values()) == {400}, refused
    assert stored_state(db_session) == before
    assert admin_client.get("/admin/", allow_redirects=False).status_code == 200


def test_admin_forms_with_a_wrong_csrf_token_are_refused_and_change_nothing(
    app, admin_client: AdminTestClient, db_session
):
    before = stored_state(db_session)
    forged = {**FORM, "csrf_token": FORGED_TOKEN}
    refused = {
        (method, url): admin_client.client.open(
            url, method=method, headers={"X-CSRFToken": FORGED_TOKEN}, data=forged
        ).status_code
        for method, url in unsafe_routes(app, "/admin/")
    }
    assert set(refused.values()) == {400}, refused
    assert stored_state(db_session) == before
    assert admin_client.get("/admin/", allow_redirects=False).status_code == 200


@pytest.mark.parametrize("token", [None, FORGED_TOKEN])
def test_a_login_without_the_forms_csrf_token_logs_nobody_in(client, admin_account, token):
    client.get("/admin/login")
    form = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    if token is not None:
        form["csrf_token"] = token
    assert client.post("/admin/login", data=form).status_code == 400
    assert client.get("/admin/").status_code == 302


def test_a_logout_without_the_csrf_token_keeps_the_admin_logged_in(admin_client):
    assert admin_client.request("POST", "/admin/logout", csrf=False).status_code == 400
    assert admin_client.request("POST", "/admin/logout/everywhere", csrf=False).status_code == 400
    assert admin_client.get("/admin/", allow_redirects=False).status_code == 200


def test_the_api_refuses_the_admin_session_cookie_without_a_bearer_token(
    app, admin_client: AdminTestClient, db_session
):
    routes = [
        (method, url)
        for method, url in unsafe_routes(app, "/api/")
        if url != "/api/login" and not url.startswith("/api/ingest/")
    ]
    assert ("PUT", "/api/settings") in routes
    before = stored_state(db_session)
    answers = {
        (method, url): admin_client.request(method, url, json={}).status_code
        for method, url in routes
    }
    assert set(answers.values()) == {401}, answers
    assert stored_state(db_session) == before
