"""Who may use the admin pages: a logged-in admin, and a CSRF token on every change."""

from __future__ import annotations

from flask import g, make_response, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response as BaseResponse

csrf = CSRFProtect()
"""Checked by ``require_admin_session`` (and the login form), not globally: booths, guests, the
bot and bearer-token API calls carry no session cookie to forge."""

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def require_admin_session() -> BaseResponse | None:
    """before_request of every admin blueprint."""
    username = session.get("admin")
    if not username:
        target = request.full_path if request.method == "GET" else None
        login_url = url_for("auth.login", next=target)
        if request.headers.get("HX-Request"):
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login_url
            return response
        return redirect(login_url)
    g.admin_username = username
    if request.method in UNSAFE_METHODS:
        csrf.protect()
    return None


def current_admin() -> str:
    """The username of the admin making this request (session or API token)."""
    username: str = g.admin_username
    return username
