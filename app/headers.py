"""Response headers every page shares: security rules, caching and search-engine rules."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface, SessionMixin

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",  # blob: previews a template before it is uploaded
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""No inline script or style anywhere: pages load theirs from /static (htmx's indicator style
is switched off by the htmx-config meta tag and lives in app.css)."""


def security_headers(response: Response) -> Response:
    """after_request of the whole app."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def no_store(response: Response) -> Response:
    """Nothing in between (browser, proxy) keeps a copy: private, short-lived or per-request."""
    response.headers["Cache-Control"] = "no-store"
    return response


def keep_out_of_search_engines(response: Response) -> Response:
    """Guest pages are reachable by unguessable links only; search engines must not list them."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


class CookielessPublicResponses(SecureCookieSessionInterface):
    """A response marked ``Cache-Control: public`` may be kept by shared caches and handed to
    anyone, so it never carries the session cookie (Flask would otherwise refresh a logged-in
    admin's cookie on it, or send a new CSRF token)."""

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        if response.cache_control.public:
            return
        super().save_session(app, session, response)
