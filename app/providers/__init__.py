"""AI providers behind one small interface (see ``base``); ``get_provider`` builds one by name."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from app.config import Config
from app.media.provider_links import ProviderMediaLinks
from app.providers.base import Provider
from app.providers.local import LocalProvider

PROVIDER_NAMES = ("local", "gemini", "turbotext", "openai")


class UnknownProvider(KeyError):
    pass


@dataclass(frozen=True)
class Outbound:
    """What drivers that call out share: the HTTP session and the public links to inputs."""

    http: requests.Session
    media_links: ProviderMediaLinks


def get_provider(name: str, config: Config, api_key: str | None, outbound: Outbound) -> Provider:
    if name == "local":
        return LocalProvider()
    if name == "gemini":
        from app.providers.gemini import GeminiProvider

        return GeminiProvider(api_key, config.gemini_api_base, outbound.http)
    if name == "openai":
        from app.providers.openai import OpenAIProvider

        return OpenAIProvider(api_key, config.openai_api_base, outbound.http)
    if name == "turbotext":
        from app.providers.turbotext import TurbotextProvider

        return TurbotextProvider(
            api_key, config.turbotext_api_base, outbound.http, outbound.media_links
        )
    raise UnknownProvider(name)
