"""AI providers behind one small interface (see ``base``); ``get_provider`` picks one by name."""

from __future__ import annotations

from app.config import Config
from app.providers.base import Provider
from app.providers.local import LocalProvider


class UnknownProvider(KeyError):
    pass


def get_provider(name: str, config: Config) -> Provider:
    if name == "local":
        return LocalProvider()
    raise UnknownProvider(name)


PROVIDER_NAMES = ("local",)
