#!/usr/bin/env bash
# Install what is needed, check lint, formatting and types, and run the whole test suite against a
# real PostgreSQL (pgserver, or TEST_DATABASE_URL when set). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test

# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Chromium at $chromium: run 'sudo apt-get install chromium'" \
      "(or set CHROMIUM_PATH to a Chromium binary)." >&2
    exit 1
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
# Two workers by default (each with its own embedded PostgreSQL); PYTEST_WORKERS=0 runs serially.
exec .venv/bin/pytest -n "${PYTEST_WORKERS:-2}" "$@"
