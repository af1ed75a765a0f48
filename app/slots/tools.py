"""Slot tools: test run, recent results, ZIP of live results, cleaning a slot's expired media."""

from __future__ import annotations

from flask import Blueprint

from app.api import api_blueprint
from app.auth.guard import require_admin_session

bp = Blueprint("slot_tools", __name__, url_prefix="/admin/slots")
bp.before_request(require_admin_session)

api_bp = api_blueprint("slot_tools_api", __name__)
