"""The environment ``photochanger serve`` gives gunicorn, and the SECRET_KEY it runs with."""

from __future__ import annotations

import stat

from app.config import Config
from app.ops.serve import effective_config, gunicorn_environment


def test_gunicorn_runs_with_two_malloc_arenas_unless_configured():
    assert gunicorn_environment({"PATH": "/bin"})["MALLOC_ARENA_MAX"] == "2"
    assert gunicorn_environment({"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"


def test_gunicorn_runs_with_fixed_malloc_thresholds_unless_configured():
    environment = gunicorn_environment({"MALLOC_TRIM_THRESHOLD_": "0"})
    assert environment["MALLOC_MMAP_THRESHOLD_"] == str(12 * 2**20)
    assert environment["MALLOC_TRIM_THRESHOLD_"] == "0"


def test_overrides_win_over_the_environment():
    environment = gunicorn_environment({"DATABASE_URL": "a", "PATH": "/bin"}, {"DATABASE_URL": "b"})
    assert (environment["DATABASE_URL"], environment["PATH"]) == ("b", "/bin")


def unkeyed(tmp_path) -> Config:
    return Config(_env_file=None, media_root=tmp_path / "media", secret_key=None)


def test_the_key_generated_at_first_start_is_kept_for_the_owner_and_reused(tmp_path):
    first = effective_config(unkeyed(tmp_path), generate=True)
    stored = tmp_path / ".photochanger" / "secret_key"

    assert first.secret_key and stored.read_text() == first.secret_key
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert effective_config(unkeyed(tmp_path)).secret_key == first.secret_key
    assert effective_config(unkeyed(tmp_path), generate=True).secret_key == first.secret_key


def test_a_command_that_only_reads_generates_no_key(tmp_path):
    assert effective_config(unkeyed(tmp_path)).secret_key is None
    assert not (tmp_path / ".photochanger").exists()


def test_a_configured_secret_key_wins_over_the_generated_one(tmp_path):
    effective_config(unkeyed(tmp_path), generate=True)
    configured = unkeyed(tmp_path).model_copy(update={"secret_key": "from-the-environment"})

    assert effective_config(configured).secret_key == "from-the-environment"
