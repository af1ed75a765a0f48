"""Russian and English for everything a person reads; Russian unless the visitor asks otherwise."""

from __future__ import annotations

from babel import numbers
from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

from app.resources import TRANSLATIONS_DIR

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


def select_locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def remember_language_choice() -> None:
    """A ``?lang=`` link switches the language for the rest of the visit."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and session.get("lang") != chosen:
        session["lang"] = chosen


def current_locale() -> str:
    return str(get_locale())


BYTE_UNITS = (_l("B"), _l("KB"), _l("MB"), _l("GB"), _l("TB"))


def format_bytes(size: int) -> str:
    """``"512 B"``, ``"3.4 MB"`` (``"3,4 МБ"`` in Russian), in binary steps of 1024.

    Outside a request (the cleanup command's summary line) it is English.
    """
    amount, unit = float(size), 0
    while amount >= 1024 and unit < len(BYTE_UNITS) - 1:
        amount, unit = amount / 1024, unit + 1
    pattern = "#,##0" if unit == 0 else "#,##0.0"
    number = numbers.format_decimal(amount, format=pattern, locale=get_locale() or "en")
    return f"{number} {BYTE_UNITS[unit]}"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    Babel(app, locale_selector=select_locale)
    app.before_request(remember_language_choice)
    app.jinja_env.globals["current_locale"] = current_locale
    app.jinja_env.filters["format_bytes"] = format_bytes
