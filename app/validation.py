"""Pydantic's validation errors in words for people: one table for every form and the JSON API.

The table words pydantic's error types in the admin's language (like healthchecks' custom
messages). A field whose rule reads better in its own words (a range stated in full, a format)
keeps them in a small ``wording`` dict beside its model, which the form passes to
``field_messages``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from pydantic_core import ErrorDetails

MESSAGES: dict[str, Any] = {
    "missing": _l("This field is required."),
    "string_type": _l("Enter text."),
    "string_too_short": _l("Enter at least %(num)s characters."),
    "string_too_long": _l("Enter at most %(num)s characters."),
    "string_pattern_mismatch": _l("Contains characters that are not allowed."),
    "too_long": _l("Enter at most %(num)s items."),
    "int_parsing": _l("Enter a whole number."),
    "int_from_float": _l("Enter a whole number."),
    "int_type": _l("Enter a whole number."),
    "float_parsing": _l("Enter a number."),
    "float_type": _l("Enter a number."),
    "greater_than_equal": _l("Must be at least %(num)s."),
    "greater_than": _l("Must be more than %(num)s."),
    "less_than_equal": _l("Must be at most %(num)s."),
    "less_than": _l("Must be less than %(num)s."),
    "bool_parsing": _l("Choose yes or no."),
    "bool_type": _l("Choose yes or no."),
    "literal_error": _l("Choose one of the offered values."),
    "enum": _l("Choose one of the offered values."),
    "extra_forbidden": _l("This field is not accepted here."),
    "dict_type": _l("Enter an object."),
    "model_type": _l("Enter an object."),
    "model_attributes_type": _l("Enter an object."),
    "list_type": _l("Enter a list."),
    "json_invalid": _l("Enter valid JSON."),
    "datetime_parsing": _l("Enter a date and time, e.g. 2026-11-22 18:30."),
    "datetime_from_date_parsing": _l("Enter a date and time, e.g. 2026-11-22 18:30."),
    "datetime_type": _l("Enter a date and time, e.g. 2026-11-22 18:30."),
}
"""Pydantic error type → message; ``%(num)s`` is the bound the rule names."""

BOUND_KEYS = ("min_length", "max_length", "ge", "gt", "le", "lt")


def message_for(error: ErrorDetails) -> str:
    """One pydantic error in the admin's language; a type the table lacks (a validator's own
    ``ValueError``) keeps the words it was raised with."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        kind = "missing"
    template = MESSAGES.get(kind)
    if template is None:
        return str(error["msg"]).removeprefix("Value error, ")
    bound = next((ctx[key] for key in BOUND_KEYS if key in ctx), None)
    if isinstance(bound, float) and bound.is_integer():
        bound = int(bound)
    text = str(template)
    return text % {"num": bound} if "%(num)s" in text else text


def dotted(location: tuple[int | str, ...], prefix: str = "") -> str:
    """``("output", "quality")`` as ``output.quality``, under ``prefix`` when given."""
    return ".".join(str(part) for part in (prefix, *location) if part != "")


def field_messages(
    error: ValidationError, *, prefix: str = "", wording: Mapping[str, object] | None = None
) -> dict[str, str]:
    """``{dotted field: message}``, the first error of each field.

    ``wording`` names fields (by their top-level name) whose message replaces the table's
    for any error inside them; such an error is reported under that name.
    An error of the whole model (no field) is reported as ``form``.
    """
    wording = wording or {}
    messages: dict[str, str] = {}
    for detail in error.errors(include_url=False, include_input=False):
        location = detail["loc"]
        own = str(location[0]) if location and str(location[0]) in wording else None
        if own is not None:
            messages.setdefault(dotted((own,), prefix), str(wording[own]))
        else:
            messages.setdefault(dotted(location, prefix) or "form", message_for(detail))
    return messages
