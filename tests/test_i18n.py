"""Every user-visible string exists in Russian (the default) and English."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT

RU_CATALOG = PROJECT_ROOT / "app/translations/ru/LC_MESSAGES/messages.po"


def extracted_ids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "app/babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as template:
        return {str(m.id) for m in read_po(template) if m.id}


def test_every_string_in_code_and_templates_has_a_russian_translation(tmp_path):
    with RU_CATALOG.open("rb") as po:
        translated = {str(m.id) for m in read_po(po, locale="ru") if m.id and m.string}
    missing = extracted_ids(tmp_path) - translated
    assert not missing, f"add Russian translations to {RU_CATALOG}: {sorted(missing)}"


NOT_WORDS = {"PhotoChanger", "RU", "EN", "Русский", "English", "JSON", "ZIP", "QR", "URL", "UTC"}
ATTRIBUTE_BLOCK = re.compile(r"\{% block \w+_(?:attrs|class) %\}.*?\{% endblock %\}", re.DOTALL)
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
ATTRIBUTE = re.compile(r"[\w:.-]+\s*=\s*(\"[^\"]*\"|'[^']*')")
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<[^>]*>", re.DOTALL)
LETTERS = re.compile(r"[A-Za-zА-Яа-яЁё]{2,}")


def literal_text(template: str) -> list[str]:
    """Text a person would read that is written into the template instead of passed to _()."""
    text = JINJA.sub(" ", ATTRIBUTE_BLOCK.sub(" ", template))
    text = TAG.sub(" ", SCRIPT_OR_STYLE.sub(" ", ATTRIBUTE.sub(" ", text)))
    words = LETTERS.findall(text)
    return [word for word in words if word not in NOT_WORDS]


def test_templates_contain_no_text_outside_translation_calls():
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): words
        for path in sorted((PROJECT_ROOT / "templates").rglob("*.html"))
        if (words := literal_text(path.read_text(encoding="utf-8")))
    }
    assert not offenders, f"wrap these in {{{{ _('…') }}}}: {offenders}"


def test_the_template_check_catches_bare_text():
    assert literal_text("<p>Saved</p>") == ["Saved"]
    assert literal_text('<p {% if x %}class="a"{% endif %}>{{ _("Saved") }} items</p>') == ["items"]
    assert literal_text("<p>{{ _('Saved') }}</p><script>let x = 1;</script>") == []
