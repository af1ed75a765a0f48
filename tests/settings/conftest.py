from __future__ import annotations

import pytest

from tests.support.admin import AdminClient


@pytest.fixture
def admin(admin_http: AdminClient) -> AdminClient:
    """The logged-in admin reading the pages in English, the messages' source text."""
    assert admin_http.get("/admin/settings?lang=en").status_code == 200
    return admin_http
