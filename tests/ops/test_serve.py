"""The environment ``photochanger serve`` gives gunicorn."""

from __future__ import annotations

from app.ops.serve import gunicorn_environment


def test_gunicorn_runs_with_two_malloc_arenas_unless_configured():
    assert gunicorn_environment({"PATH": "/bin"})["MALLOC_ARENA_MAX"] == "2"
    assert gunicorn_environment({"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"


def test_overrides_win_over_the_environment():
    environment = gunicorn_environment({"DATABASE_URL": "a", "PATH": "/bin"}, {"DATABASE_URL": "b"})
    assert (environment["DATABASE_URL"], environment["PATH"]) == ("b", "/bin")
