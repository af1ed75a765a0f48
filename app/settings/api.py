"""JSON API of the settings domain (admin bearer token): ``/api/settings`` and the gallery share."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, make_response
from pydantic import MISSING
from spectree import Response as SpecResponse

from app import context, db
from app.api import (
    AUTH_ERRORS,
    BEARER,
    ApiError,
    api_blueprint,
    refuse_non_object_body,
    spec,
)
from app.auth.guard import current_admin
from app.config import Config
from app.db import utcnow
from app.providers.keys import key_status, store_api_key
from app.settings.schemas import (
    GalleryShareOut,
    GalleryShareRequest,
    ProviderKeyOut,
    SettingsOut,
    SettingsUpdate,
)
from app.settings.service import (
    RuntimeSettings,
    load_settings,
    save_settings,
    set_ingest_password,
    share_gallery,
    shared_gallery_until,
)

bp = api_blueprint("settings_api", __name__)


@bp.get("/settings")
@spec.validate(
    resp=SpecResponse(HTTP_200=SettingsOut, **AUTH_ERRORS), tags=["settings"], security=BEARER
)
def get_settings() -> Response:
    config = context.config()
    return _settings_response(config, load_settings(db.session(), config))


@bp.put("/settings")
@spec.validate(
    json=SettingsUpdate,
    resp=SpecResponse(HTTP_200=SettingsOut, HTTP_415=ApiError, **AUTH_ERRORS),
    tags=["settings"],
    security=BEARER,
)
def put_settings(json: SettingsUpdate) -> Response:
    """Any subset of the settings; ``ingest_password`` is write-only, and a provider key is
    written as a string or cleared with null."""
    refused = refuse_non_object_body()
    if refused is not None:
        return refused
    session, config, admin = db.session(), context.config(), current_admin()
    if json.provider_keys is not MISSING:
        for provider, api_key in json.provider_keys.model_dump().items():
            store_api_key(session, config, provider, api_key, admin)
    if json.ingest_password is not MISSING:
        set_ingest_password(session, config, json.ingest_password, admin)
    changes = json.plain_changes()
    if changes:
        save_settings(session, config, changes, admin)
    return _settings_response(config, load_settings(session, config))


@bp.post("/gallery/share")
@spec.validate(
    json=GalleryShareRequest,
    resp=SpecResponse(HTTP_200=GalleryShareOut, HTTP_415=ApiError, **AUTH_ERRORS),
    tags=["settings"],
    security=BEARER,
)
def share_public_gallery(json: GalleryShareRequest) -> Response:
    """Open ``/pubgallery`` for ``minutes`` from now."""
    refused = refuse_non_object_body()
    if refused is not None:
        return refused
    until = utcnow() + timedelta(minutes=json.minutes)
    share_gallery(db.session(), context.config(), until, current_admin())
    return _share_response(until)


@bp.delete("/gallery/share")
@spec.validate(
    resp=SpecResponse(HTTP_200=GalleryShareOut, **AUTH_ERRORS), tags=["settings"], security=BEARER
)
def stop_sharing() -> Response:
    """Close ``/pubgallery`` now."""
    share_gallery(db.session(), context.config(), None, current_admin())
    return _share_response(None)


def _settings_response(config: Config, runtime: RuntimeSettings) -> Response:
    body = SettingsOut(
        **runtime.model_dump(
            include={
                "sync_response_seconds",
                "result_ttl_hours",
                "slot_concurrency",
                "provider_concurrency",
                "dedupe_window_minutes",
                "telegram_daily_limit",
                "telegram_admin_ids",
                "ingest_password_updated_at",
                "ingest_password_updated_by",
                "telegram_bot_username",
            }
        ),
        ingest_password_set=runtime.ingest_password_hash is not None,
        provider_keys={
            provider: ProviderKeyOut.model_validate(status)
            for provider, status in key_status(config, runtime).items()
        },
        gallery_shared_until=shared_gallery_until(runtime, utcnow()),
    )
    return make_response(body.model_dump(mode="json"))


def _share_response(until: datetime | None) -> Response:
    return make_response(GalleryShareOut(shared_until=until).model_dump(mode="json"))
