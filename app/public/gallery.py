"""Guest galleries: one slot's recent results, and /pubgallery while an admin shares it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("gallery", __name__)
