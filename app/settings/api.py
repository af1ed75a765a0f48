"""JSON API of the settings domain (admin bearer token)."""

from __future__ import annotations

from app.api import api_blueprint

bp = api_blueprint("settings_api", __name__)
