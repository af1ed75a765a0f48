"""Admin pages of the stats domain."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.auth.guard import require_admin_session

bp = Blueprint("stats", __name__, url_prefix="/admin")
bp.before_request(require_admin_session)


@bp.get("/stats")
def page() -> str:
    return render_template("stats/page.html")


@bp.get("/jobs")
def jobs() -> str:
    return render_template("stats/jobs.html")
