"""Every provider the app knows, in one table: label, settings model, API key field and driver.

Lists of provider names, label tables and key lists elsewhere read from here, so adding a
provider is one entry (plus its driver and settings model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from app.config import Config
from app.providers.base import Outbound, Provider
from app.providers.gemini import SUGGESTED_MODELS as GEMINI_MODELS
from app.providers.gemini import GeminiProvider
from app.providers.local import LocalProvider
from app.providers.openai import SUGGESTED_MODELS as OPENAI_MODELS
from app.providers.openai import OpenAIProvider
from app.providers.schemas import (
    GeminiSettings,
    LocalSettings,
    OpenAISettings,
    SettingsInvalid,
    StrictSettings,
    TurbotextSettings,
    validated_settings,
)
from app.providers.turbotext import TurbotextProvider


class UnknownProvider(KeyError):
    pass


@dataclass(frozen=True)
class ProviderSpec:
    driver: type[Provider]
    label: LazyString | str
    """What admins read; brand names are not translated."""
    settings_model: type[StrictSettings]
    key_field: str | None = None
    """The ``Config`` field with the API key from the environment; None: it takes no key."""
    suggested_models: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.driver.name

    @property
    def calls_out(self) -> bool:
        return self.driver.calls_out

    @property
    def env_name(self) -> str | None:
        """The environment variable an operator sets the key with."""
        return self.key_field.upper() if self.key_field else None


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(LocalProvider, _l("Built-in styles (offline)"), LocalSettings),
        ProviderSpec(
            GeminiProvider,
            "Gemini",
            GeminiSettings,
            key_field="gemini_api_key",
            suggested_models=GEMINI_MODELS,
        ),
        ProviderSpec(
            TurbotextProvider, "Turbotext", TurbotextSettings, key_field="turbotext_api_key"
        ),
        ProviderSpec(
            OpenAIProvider,
            "OpenAI",
            OpenAISettings,
            key_field="openai_api_key",
            suggested_models=OPENAI_MODELS,
        ),
    )
}
PROVIDER_NAMES = tuple(PROVIDERS)
KEY_PROVIDERS = tuple(name for name, spec in PROVIDERS.items() if spec.key_field)
"""The providers that take an API key, in display order."""


def provider_spec(name: str) -> ProviderSpec:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UnknownProvider(name) from None


def provider_label(name: str) -> str:
    """The label of ``name`` in the current locale; an unknown name stays as it is."""
    spec = PROVIDERS.get(name)
    return str(spec.label) if spec else name


def validate_settings(provider: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings normalized for ``provider`` (defaults filled, ``None`` dropped)."""
    spec = PROVIDERS.get(provider)
    if spec is None:
        raise SettingsInvalid({"provider": f"unknown provider {provider!r}"})
    return validated_settings(spec.settings_model, settings)


def get_provider(name: str, config: Config, api_key: str | None, outbound: Outbound) -> Provider:
    return provider_spec(name).driver.from_config(config, api_key, outbound)
