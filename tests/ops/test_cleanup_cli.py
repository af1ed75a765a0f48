"""The retention job started as ``photochanger cleanup`` and as ``scripts/cleanup_media.py``,
in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.config import PROJECT_ROOT
from tests.support.cleanup import HOUR, RESULT_BYTES, add_result, summary_lines
from tests.support.cli import photochanger
from tests.support.servers import free_port


def cli_env(database_url: str, media_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOG_LEVEL")}
    return {
        **env,
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "SECRET_KEY": "test-secret-key",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_cli_prints_the_summary_and_a_json_line_and_exits_zero(
    db_session, store, now, database_url, media_root, tmp_path
):
    _, folder = add_result(db_session, store, now, expires_in=-HOUR)

    done = photochanger("cleanup", env=cli_env(database_url, media_root), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    summary = summary_lines(done.stdout)
    assert len(summary) == 1
    assert summary[0].startswith("cleanup: 1 expired results, 0 temp, 0 orphans")
    (finished,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.finished"]
    assert finished["expired_results"] == 1
    assert finished["bytes_freed"] == RESULT_BYTES
    assert finished["dry_run"] is False
    assert finished["skipped"] is False
    assert not folder.exists()


def test_cli_exits_zero_and_says_so_when_another_copy_is_running(
    database_url, media_root, tmp_path, lock_held_elsewhere
):
    done = photochanger("cleanup", env=cli_env(database_url, media_root), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "cleanup: skipped, another cleanup is running" in done.stdout.splitlines()
    (finished,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.finished"]
    assert finished["skipped"] is True


def test_cli_exits_non_zero_when_the_database_is_unreachable(media_root, tmp_path):
    url = f"postgresql://cleanup:s3cret-pw@127.0.0.1:{free_port()}/photochanger"

    done = photochanger("cleanup", env=cli_env(url, media_root), cwd=tmp_path)

    assert done.returncode == 1
    (failed,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.failed"]
    assert failed["level"] == "error"
    assert "Traceback" in failed["exception"]
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert "cleanup: failed" in done.stderr


def test_cleanup_media_script_dry_run_works_from_any_directory(
    db_session, store, now, database_url, media_root, tmp_path
):
    _, folder = add_result(db_session, store, now, expires_in=-HOUR)
    script = PROJECT_ROOT / "scripts" / "cleanup_media.py"

    done = subprocess.run(
        [sys.executable, str(script), "--dry-run"],
        env=cli_env(database_url, media_root),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert any(
        line.startswith("cleanup: 1 expired results") and line.endswith("(dry run)")
        for line in done.stdout.splitlines()
    )
    (finished,) = [e for e in json_lines(done.stdout) if e["event"] == "cleanup.finished"]
    assert finished["dry_run"] is True
    assert folder.exists()
