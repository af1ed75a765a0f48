"""Admin pages of the slots domain."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.auth.guard import require_admin_session

bp = Blueprint("slots", __name__, url_prefix="/admin")
bp.before_request(require_admin_session)


@bp.get("/")
def dashboard() -> str:
    return render_template("slots/dashboard.html")
