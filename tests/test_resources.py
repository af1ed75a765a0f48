"""A checkout whose Russian catalog was never compiled refuses to start instead of showing English
while Russian is selected; run on a copy of the checkout, so the real one stays untouched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.resources import PROJECT_ROOT, catalog_path
from tests.support.servers import closed_port_url

RU_CATALOG = Path("app/translations/ru/LC_MESSAGES/messages.mo")


@pytest.fixture
def checkout_without_ru_catalog(tmp_path: Path) -> Path:
    checkout = tmp_path / "checkout"
    for folder in ("app", "templates", "migrations"):
        shutil.copytree(
            PROJECT_ROOT / folder, checkout / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    assert catalog_path(checkout / "app" / "translations", "ru") == checkout / RU_CATALOG
    (checkout / RU_CATALOG).unlink(missing_ok=True)
    return checkout


def run_python(checkout: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env.update(
        PYTHONPATH=str(checkout),
        DATABASE_URL=closed_port_url().replace("http://", "postgresql://") + "/none",
        MEDIA_ROOT=str(checkout / "media"),
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_to_start_without_the_compiled_russian_catalog(checkout_without_ru_catalog):
    done = run_python(checkout_without_ru_catalog, "from app.cli import main; main()", "serve")

    assert done.returncode == 1
    assert "install is incomplete" in done.stderr
    assert str(checkout_without_ru_catalog / RU_CATALOG) in done.stderr
    assert "pybabel compile" in done.stderr
    assert not (checkout_without_ru_catalog / "media").exists()


def test_create_app_refuses_without_the_compiled_russian_catalog(checkout_without_ru_catalog):
    done = run_python(
        checkout_without_ru_catalog,
        "from app import create_app; from app.config import Config; "
        "create_app(Config(secret_key='a-secret-key-for-this-test-only'))",
    )

    assert done.returncode != 0
    assert "MissingResources" in done.stderr
    assert str(checkout_without_ru_catalog / RU_CATALOG) in done.stderr
