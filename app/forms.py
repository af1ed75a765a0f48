"""What an admin form shows after a request: the values, errors by field and a form-level outcome.

Every admin form (slot form, settings cards, login) renders one of these with the macros in
``templates/admin/forms.html``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NEVER_ECHOED = frozenset({"csrf_token", "password", "ingest_password", "api_key"})
"""Typed values that are never sent back into the page."""


@dataclass
class FormState:
    """``values`` as saved or as typed, ``errors`` by field name, ``message`` when the action
    succeeded and ``error`` when it failed for a reason not tied to one field.

    Element ids are ``id_prefix`` plus the field name with dots as dashes; a field's error
    message has that id plus ``-error``.
    """

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    error: str | None = None
    id_prefix: str = ""

    @classmethod
    def typed(
        cls, form: Mapping[str, str], checkboxes: Iterable[str] = (), **state: Any
    ) -> FormState:
        """What was typed into ``form`` (secrets left out); an absent checkbox is off."""
        values: dict[str, Any] = {k: v for k, v in form.items() if k not in NEVER_ECHOED}
        for name in checkboxes:
            values[name] = "on" if name in form else ""
        return cls(values, **state)

    def value(self, name: str, default: str = "") -> str:
        value = self.values.get(name)
        return default if value is None else str(value)

    def checked(self, name: str) -> bool:
        return bool(self.values.get(name))

    def field_id(self, name: str) -> str:
        return self.id_prefix + name.replace(".", "-")
