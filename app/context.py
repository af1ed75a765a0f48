"""Typed access to what the app factory attached to the Flask app."""

from __future__ import annotations

from flask import current_app

from app.config import Config
from app.media.provider_links import ProviderMediaLinks
from app.media.storage import MediaStore
from app.providers.base import Outbound


def config() -> Config:
    value: Config = current_app.extensions["photochanger.config"]
    return value


def media_store() -> MediaStore:
    value: MediaStore = current_app.extensions["photochanger.media_store"]
    return value


def outbound() -> Outbound:
    """The shared HTTP session and this request's public links to provider inputs."""
    from app.urls import external_base_url

    links = ProviderMediaLinks(media_store(), config().secret_key or "", external_base_url())
    return Outbound(current_app.extensions["photochanger.http"], links)
