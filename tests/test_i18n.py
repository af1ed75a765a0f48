"""Every user-visible string exists in Russian (the default) and English."""

from __future__ import annotations

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
