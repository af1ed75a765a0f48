"""Admin pages answer a plain load with the whole page and an htmx swap with its block only."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.admin import AdminTestClient

PAGES = {
    "/admin/slots/slot-001": 'id="slot-form"',
    "/admin/settings": 'id="settings-processing"',
    "/admin/stats": 'id="stats-loading"',
}
"""Each admin page and a mark of the block an htmx swap of it gets."""


@pytest.mark.parametrize("path", PAGES)
def test_a_plain_load_gets_the_whole_page_varying_on_hx_request(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    assert "<html" in response.text
    assert PAGES[path] in response.text
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("path", PAGES)
def test_an_htmx_request_gets_only_the_block_varying_on_hx_request(admin_client, path):
    response = admin_client.get(path, htmx=True)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert PAGES[path] in response.text
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("path", PAGES)
def test_an_htmx_history_restore_gets_the_whole_page(admin_client: AdminTestClient, path):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

    response = admin_client.client.get(path, headers=headers)

    assert response.status_code == 200
    assert "<html" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_the_login_page_varies_on_hx_request_too(client: FlaskClient):
    plain = client.get("/admin/login")
    swapped = client.get("/admin/login", headers={"HX-Request": "true"})

    assert "<html" in plain.text
    assert "<html" not in swapped.text
    assert 'name="username"' in swapped.text
    assert "HX-Request" in plain.headers["Vary"]
    assert "HX-Request" in swapped.headers["Vary"]
