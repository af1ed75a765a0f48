"""``/public/provider-media/<token>``: inputs handed to providers that download by URL."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app import context
from app.media.delivery import send_media
from app.media.provider_links import LinkExpired, LinkInvalid
from app.providers.base import request_outbound

bp = Blueprint("provider_media", __name__)


@bp.get("/public/provider-media/<token>")
def provider_media(token: str) -> Response | tuple[Response, int]:
    try:
        published = request_outbound().media_links.resolve(token)
    except LinkInvalid:
        return jsonify(
            status="error", failure_reason="link_not_found", message="Unknown link."
        ), 404
    except LinkExpired:
        return jsonify(
            status="error", failure_reason="link_expired", message="This link has expired."
        ), 410
    response = send_media(
        context.media_store(), published.path, published.mime, context.config().media_accel_redirect
    )
    response.headers["Cache-Control"] = "no-store"
    return response
