"""Where the app finds its templates, migrations, static files and compiled catalogs.

A checkout (editable install, tests, ``scripts/bootstrap.sh``) keeps ``templates/`` and
``migrations/`` at the top level beside ``app/``; a wheel carries them inside the package, as
``app/templates`` and ``app/migrations`` (``setup.py``'s build step copies them there and compiles
the catalogs), so the packaged copy is used when it exists. Static files and catalogs live in the
package in both cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
"""The checkout's root; in an installed wheel, the site-packages folder that holds ``app/``."""


def _packaged_or_checkout(name: str) -> Path:
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


def default_media_root() -> Path:
    """The checkout's ``media/`` folder; for an installed wheel, ``media/`` in the working
    directory (never inside site-packages)."""
    if (PACKAGE_DIR / "templates").is_dir():
        return Path.cwd() / "media"
    return PROJECT_ROOT / "media"


TEMPLATES_DIR = _packaged_or_checkout("templates")
MIGRATIONS_DIR = _packaged_or_checkout("migrations")
STATIC_DIR = PACKAGE_DIR / "static"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"


class MissingResources(RuntimeError):
    """The install lacks files the app cannot run without."""


def catalog_path(translations_dir: Path, language: str) -> Path:
    return translations_dir / language / "LC_MESSAGES" / "messages.mo"


def missing_catalogs(translations_dir: Path, languages: Iterable[str]) -> list[Path]:
    return [
        path
        for language in languages
        if not (path := catalog_path(translations_dir, language)).is_file()
    ]


def check_resources(languages: Iterable[str]) -> None:
    """Refuse to start on an incomplete install: without a compiled catalog Flask-Babel would
    silently show English while Russian is selected."""
    missing = [
        path
        for path in (TEMPLATES_DIR / "base.html", MIGRATIONS_DIR / "env.py", STATIC_DIR)
        if not path.exists()
    ]
    missing += missing_catalogs(TRANSLATIONS_DIR, languages)
    if missing:
        raise MissingResources(
            "PhotoChanger's install is incomplete, missing: "
            + ", ".join(str(path) for path in missing)
            + ". In a checkout, run scripts/bootstrap.sh (it compiles the catalogs with "
            "`pybabel compile --use-fuzzy -d app/translations`); otherwise reinstall the "
            "package from a wheel built by `pip wheel .` or `pip install .`."
        )
