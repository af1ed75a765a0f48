"""Who may use the admin pages: a logged-in admin, and a CSRF token on every change."""

from __future__ import annotations

from flask import g, make_response, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response as BaseResponse

from app import db
from app.auth.sessions import SessionTicket, session_is_open
from app.db import utcnow

csrf = CSRFProtect()
"""Checked by ``require_admin_session`` (and the login form), not globally: booths, guests, the
bot and bearer-token API calls carry no session cookie to forge."""

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def require_admin_session() -> BaseResponse | None:
    """before_request of every admin blueprint."""
    username = session_admin()
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


def session_admin() -> str | None:
    """The admin this request's session cookie stands for. A cookie that was logged out, ended
    everywhere or has outlived its lifetime is emptied and stands for nobody."""
    username = session.get("admin")
    if not username:
        return None
    ticket = session_ticket()
    if ticket is None or not session_is_open(db.session(), username, ticket, utcnow()):
        forget_login()
        return None
    return str(username)


def session_ticket() -> SessionTicket | None:
    session_id, generation, login_at = (session.get(k) for k in ("sid", "gen", "login_at"))
    if not isinstance(session_id, str) or not isinstance(generation, int):
        return None
    if not isinstance(login_at, int):
        return None
    return SessionTicket(session_id=session_id, generation=generation, login_at=login_at)


def remember_login(username: str, ticket: SessionTicket) -> None:
    """A fresh cookie for a login (nothing of the one before it is kept but the language)."""
    forget_login()
    session.permanent = True
    session.update(
        admin=username, sid=ticket.session_id, gen=ticket.generation, login_at=ticket.login_at
    )


def forget_login() -> None:
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
