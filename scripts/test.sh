#!/usr/bin/env bash
# Install what is needed, check lint, formatting and types, and run the whole test suite against a
# real PostgreSQL (pgserver, or TEST_DATABASE_URL when set). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test

# Debian programs the tests drive for real, installed with apt when missing and running as root.
# Browser tests use Debian's Chromium through Playwright (never a downloaded browser).
need_debian() {  # need_debian BINARY PACKAGE PURPOSE
  if [ -x "$1" ] || command -v "$1" >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's $2 for $3…"
    [ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "The tests need $1 for $3: run 'sudo apt-get install $2'." >&2
    exit 1
  fi
}
need_debian "${CHROMIUM_PATH:-/usr/bin/chromium}" chromium "the browser tests (or set CHROMIUM_PATH)"
need_debian /usr/sbin/nginx nginx "the reverse proxy tests (nginx -t and a real nginx in front of gunicorn)"
need_debian promtool prometheus "the monitoring tests (promtool checks and unit-tests the alert rules)"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
# Two workers by default (each with its own embedded PostgreSQL); PYTEST_WORKERS=0 runs serially.
exec .venv/bin/pytest -n "${PYTEST_WORKERS:-2}" "$@"
