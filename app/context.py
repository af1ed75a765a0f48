"""Typed access to what the app factory attached to the Flask app."""

from __future__ import annotations

import threading

from flask import current_app

from app.config import Config
from app.media.storage import MediaStore


def config() -> Config:
    value: Config = current_app.extensions["photochanger.config"]
    return value


def media_store() -> MediaStore:
    value: MediaStore = current_app.extensions["photochanger.media_store"]
    return value


def password_checks() -> threading.BoundedSemaphore:
    """This process's slots for booth password checks running at once."""
    value: threading.BoundedSemaphore = current_app.extensions["photochanger.password_checks"]
    return value
