"""Admin login and logout (HTML forms) and the API's token login."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, redirect, request
from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as SpecResponse
from werkzeug.wrappers import Response as BaseResponse

from app import context, db
from app.api import ApiError, api_error, spec
from app.auth.guard import csrf, forget_login, remember_login, session_admin, session_ticket
from app.auth.service import authenticate, log_out_everywhere
from app.auth.sessions import close_session, open_session
from app.auth.tokens import issue_token
from app.db import utcnow
from app.forms import FormState
from app.htmx import render_page

bp = Blueprint("auth", __name__)
api_bp = Blueprint("auth_api", __name__, url_prefix="/api")

DASHBOARD_PATH = "/admin/"


def safe_next(target: str | None) -> str:
    """Only a path on this site is followed after login: no scheme, no host, no backslash and no
    control or whitespace character (browsers drop a tab, so ``/\t/host`` would become
    ``//host``)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return DASHBOARD_PATH
    if "\\" in target or any(char.isspace() or not char.isprintable() for char in target):
        return DASHBOARD_PATH
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DASHBOARD_PATH
    return target


def client_ip() -> str:
    """The caller's address (ProxyFix puts the real one here when PROXY_HOPS is set)."""
    return request.remote_addr or "unknown"


def locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, round((until - now).total_seconds() / 60))
    message: str = ngettext(
        "Too many failed logins. Try again in %(num)d minute.",
        "Too many failed logins. Try again in %(num)d minutes.",
        minutes,
    )
    return message


@bp.route("/admin/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    if request.method == "GET":
        if session_admin():
            return redirect(safe_next(request.args.get("next")))
        return login_page(FormState(), request.args.get("next", ""))
    csrf.protect()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    next_path = request.form.get("next", "")
    if not username or not password:
        error = _("Enter your username and password.")
        return login_page(FormState({"username": username}, error=error), next_path, 400)
    now = utcnow()
    outcome = authenticate(db.session(), username, password, request.remote_addr or "", now)
    if outcome.admin is None:
        if outcome.locked_until is not None:
            error, status = locked_message(outcome.locked_until, now), 429
        else:
            error, status = _("Wrong username or password."), 401
        return login_page(FormState({"username": username}, error=error), next_path, status)
    ticket = open_session(db.session(), outcome.admin, now)
    remember_login(outcome.admin.username, ticket)
    return redirect(safe_next(next_path))


def login_page(form: FormState, next_path: str, status: int = 200) -> Response:
    return render_page("auth/login.html", "login_form", status, form=form, next=next_path)


@bp.post("/admin/logout")
def logout() -> BaseResponse:
    """Ends this cookie's session on the server too: a copy of the cookie opens nothing after."""
    csrf.protect()
    ticket = session_ticket()
    if ticket is not None:
        close_session(db.session(), ticket.session_id)
    forget_login()
    return redirect("/admin/login")


@bp.post("/admin/logout/everywhere")
def logout_everywhere() -> BaseResponse:
    """Ends every session and API token of the admin, this one included."""
    username = session_admin()
    if username is None:
        return redirect("/admin/login")
    csrf.protect()
    log_out_everywhere(db.session(), username)
    forget_login()
    return redirect("/admin/login")


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name
    expires_in: int


@api_bp.post("/login")
@spec.validate(
    json=LoginRequest,
    resp=SpecResponse(HTTP_200=TokenResponse, HTTP_401=ApiError, HTTP_429=ApiError),
    tags=["auth"],
)
def api_login(json: LoginRequest) -> Response:
    now = utcnow()
    outcome = authenticate(
        db.session(), json.username, json.password, request.remote_addr or "", now
    )
    if outcome.admin is None:
        if outcome.locked_until is not None:
            retry_after = max(1, int((outcome.locked_until - now).total_seconds()))
            message = locked_message(outcome.locked_until, now)
            return api_error(429, "login_throttled", message, **{"Retry-After": str(retry_after)})
        return api_error(401, "invalid_credentials", _("Wrong username or password."))
    admin = outcome.admin
    token = issue_token(context.config().jwt_key, admin.username, now, admin.session_generation)
    body = TokenResponse(access_token=token.access_token, expires_in=token.expires_in)
    return make_response(body.model_dump(mode="json"))
