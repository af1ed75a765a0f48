"""Reading admin pages' HTML in tests: field errors, input values, marked elements, and a form's
fields as a browser would submit them."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

VOID_TAGS = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})


def field_error(page: str, name: str) -> str | None:
    """The message shown next to the field whose element id is ``name``, if any."""
    found = re.search(rf'class="field-error" id="{re.escape(name)}-error"[^>]*>([^<]*)<', page)
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


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form" and attr.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = attr.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self.fields[name] = attr.get("value") or "on"
            elif kind not in ("file", "submit", "button"):
                self.fields[name] = attr.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attr.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.fields.setdefault(self._select, value)
            if "selected" in attr:
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += (
                data.removeprefix("\n") if not self.fields[self._textarea] else data
            )


def form_fields(page: str, form_id: str = "slot-form") -> dict[str, str]:
    """The name/value pairs the form would submit (checked boxes only, selected options)."""
    reader = _FormReader(form_id)
    reader.feed(page)
    assert reader.fields, f"no form #{form_id} in the page"
    return reader.fields
