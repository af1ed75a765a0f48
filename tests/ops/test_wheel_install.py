"""An install that never ran scripts/bootstrap.sh: the project built as a wheel (from an sdist, as
``python -m build`` does, with pip's isolated build environment so the declared build requirements
are the only ones), installed into a fresh virtualenv outside the checkout and served from there."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from alembic.script import ScriptDirectory

from app.db import alembic_config
from app.resources import PROJECT_ROOT
from tests.fixtures.database import PgServer
from tests.support.database import alembic_revision
from tests.support.servers import free_port, wait_healthy

BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
BUILD_INPUT_FOLDERS = ("app", "templates", "migrations")


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def copy_build_inputs(target: Path) -> None:
    """The sources as git holds them: no compiled catalogs, no bytecode, no egg-info."""
    for name in BUILD_INPUTS:
        shutil.copy2(PROJECT_ROOT / name, target / name)
    for folder in BUILD_INPUT_FOLDERS:
        shutil.copytree(
            PROJECT_ROOT / folder,
            target / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"),
        )


def build_wheel(work: Path) -> Path:
    source, dist = work / "source", work / "dist"
    source.mkdir()
    copy_build_inputs(source)
    sdist_name = (
        run(
            [
                sys.executable,
                "-c",
                f"from setuptools import build_meta; print(build_meta.build_sdist({str(dist)!r}))",
            ],
            cwd=source,
        )
        .strip()
        .splitlines()[-1]
    )
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(dist),
            str(dist / sdist_name),
        ],
        cwd=work,
    )
    (wheel,) = dist.glob("photochanger-*.whl")
    return wheel


def isolated_env(**values: str) -> dict[str, str]:
    """This process's environment without anything that would reach the checkout or its venv."""
    dropped = {
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "DATABASE_URL",
        "ADMIN_PASSWORD",
        "INGEST_PASSWORD",
        "SECRET_KEY",
        "MEDIA_ROOT",
        "PROMETHEUS_MULTIPROC_DIR",
    }
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    return {**env, **values}


def install_into_fresh_venv(wheel: Path, venv: Path) -> Path:
    """A venv holding only the wheel; the dependencies come from the checkout's venv through a
    plain path line in a .pth file, which does not activate the checkout's editable finder."""
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv.parent)
    python = venv / "bin" / "python"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=venv.parent,
    )
    site_packages = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        cwd=venv.parent,
    ).strip()
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site_packages) / "checkout_dependencies.pth").write_text(
        "\n".join(sorted(dependencies)) + "\n", encoding="utf-8"
    )
    return Path(site_packages)


@pytest.fixture
def empty_database(pg_server: PgServer) -> Iterator[str]:
    dbname = f"photochanger_wheel_{os.getpid()}"
    janitor = pg_server.janitor(dbname)
    janitor.drop()
    janitor.init()
    yield pg_server.url(dbname)
    janitor.drop()


@pytest.mark.slow
def test_wheel_installed_outside_the_checkout_migrates_and_serves_russian_pages_and_static_files(
    tmp_path, empty_database
):
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    site_packages = install_into_fresh_venv(wheel, venv)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    imported = run(
        [str(venv / "bin" / "python"), "-c", "import app, flask; print(app.__file__)"],
        cwd=elsewhere,
        env=isolated_env(),
    ).strip()
    assert Path(imported) == site_packages / "app" / "__init__.py"

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = isolated_env(
        DATABASE_URL=empty_database,
        MEDIA_ROOT=str(tmp_path / "media"),
        SECRET_KEY="wheel-install-secret-key-of-enough-length",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        THREADS="4",
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(venv / "bin" / "photochanger"), "serve"],
            cwd=elsewhere,
            env=env,
            stdout=sink,
            stderr=sink,
        )
    try:
        wait_healthy(url, process, 45, log.read_text)
        login = requests.get(f"{url}/admin/login", headers={"Accept-Language": "ru"}, timeout=10)
        stylesheet = requests.get(f"{url}/static/app.css", timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)

    assert login.status_code == 200
    assert '<html lang="ru">' in login.text
    assert "Войти" in login.text and "Имя пользователя" in login.text
    assert "Log in" not in login.text
    assert stylesheet.status_code == 200
    assert stylesheet.content == (PROJECT_ROOT / "app" / "static" / "app.css").read_bytes()
    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    assert alembic_revision(empty_database) == head
