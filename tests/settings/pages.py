"""Reading the settings page's HTML in tests: field errors, input values, marked elements."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

VOID_TAGS = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})


def field_error(page: str, name: str) -> str | None:
    """The message shown next to the field ``name``, if any."""
    found = re.search(rf'class="field-error" id="{re.escape(name)}-error">([^<]*)<', page)
    return html.unescape(found.group(1)) if found else None


def input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page, re.S)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def marked_text(page: str, attribute: str) -> str:
    """The text of the first element with ``attribute`` (``name`` or ``name="value"``),
    tags stripped and spaces collapsed."""
    name, _, value = attribute.partition("=")
    finder = _TextOf(name, value.strip('"') if value else None)
    finder.feed(page)
    assert finder.found, f"no element with {attribute}"
    return " ".join("".join(finder.parts).split())


class _TextOf(HTMLParser):
    def __init__(self, name: str, value: str | None) -> None:
        super().__init__()
        self.name, self.value = name, value
        self.depth = 0
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and any(
            key == self.name and (self.value is None or value == self.value) for key, value in attrs
        ):
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID_TAGS:
            self.depth -= 1
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)
