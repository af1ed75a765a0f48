"""JSON API of the stats domain (admin bearer token)."""

from __future__ import annotations

from app.api import api_blueprint

bp = api_blueprint("stats_api", __name__)
