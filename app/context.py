"""Typed access to what the app factory attached to the Flask app."""

from __future__ import annotations

from flask import current_app

from app.config import Config
from app.media.storage import MediaStore


def config() -> Config:
    value: Config = current_app.extensions["photochanger.config"]
    return value


def media_store() -> MediaStore:
    value: MediaStore = current_app.extensions["photochanger.media_store"]
    return value
