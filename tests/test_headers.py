"""Security headers on every response, and pages that need nothing the policy forbids."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from app.config import PROJECT_ROOT
from app.headers import CONTENT_SECURITY_POLICY

TEMPLATES = PROJECT_ROOT / "templates"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/admin/login", 200),
        ("GET", "/admin/settings", 302),
        ("GET", "/static/app.css", 200),
        ("GET", "/no-such-page", 404),
        ("GET", "/pubgallery", 404),
        ("GET", "/api/slots", 401),
        ("POST", "/ingest/slot-999", 404),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(
    client: FlaskClient, method: str, path: str, status: int
):
    response = client.open(path, method=method)

    assert response.status_code == status
    policy = response.headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_STYLE = re.compile(r'<style\b|\sstyle="|\son[a-z]+="|javascript:', re.I)


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda path: str(path.relative_to(TEMPLATES))
)
def test_templates_have_no_inline_script_style_or_handler(template):
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not INLINE_STYLE.search(text)


def test_htmx_is_told_not_to_inject_its_indicator_style():
    layout = (TEMPLATES / "admin" / "layout.html").read_text()
    assert '"includeIndicatorStyles": false' in layout
