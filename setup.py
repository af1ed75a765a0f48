"""The wheel's build step: everything else about the package is declared in pyproject.toml.

A wheel (``pip install .``, ``pip wheel .``, ``python -m build``) must run without the checkout,
so ``build_py`` puts into the built package what a checkout keeps elsewhere: the top-level
``templates/`` and ``migrations/`` folders become ``app/templates`` and ``app/migrations`` (where
``app.resources`` looks first), and each ``app/translations/<lang>/LC_MESSAGES/messages.po`` is
compiled into its ``messages.mo`` with Babel, fuzzy entries included like
``pybabel compile --use-fuzzy`` (compiled catalogs are not in git). A plain setuptools hook is the
simplest way: pyproject.toml alone can neither map folders outside the package into it nor run a
compiler; Babel is therefore a build requirement. An editable install skips the step: the app
finds the checkout's folders, and ``scripts/bootstrap.sh`` compiles the catalogs in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGED_FOLDERS = ("templates", "migrations")


class BuildPyWithResources(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        package = Path(self.build_lib) / "app"
        for folder in PACKAGED_FOLDERS:
            shutil.rmtree(package / folder, ignore_errors=True)  # no leftovers of an earlier build
            shutil.copytree(
                ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__")
            )
        for source in sorted((ROOT / "app" / "translations").glob("*/LC_MESSAGES/*.po")):
            compile_catalog(source, package / source.relative_to(ROOT / "app").with_suffix(".mo"))


def compile_catalog(source: Path, target: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as po_file:
        catalog = read_po(po_file, locale=source.parent.parent.name)
    with target.open("wb") as mo_file:
        write_mo(mo_file, catalog, use_fuzzy=True)


setup(cmdclass={"build_py": BuildPyWithResources})
