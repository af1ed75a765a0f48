"""Admin pages of the settings domain."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.auth.guard import require_admin_session

bp = Blueprint("settings", __name__, url_prefix="/admin")
bp.before_request(require_admin_session)


@bp.get("/settings")
def page() -> str:
    return render_template("settings/page.html")
