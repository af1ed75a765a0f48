"""JSON API of the slots domain (admin bearer token)."""

from __future__ import annotations

from app.api import api_blueprint

bp = api_blueprint("slots_api", __name__)
