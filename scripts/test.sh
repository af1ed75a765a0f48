#!/usr/bin/env bash
# Install what is needed, check lint, formatting and types, and run the whole test suite against a
# real PostgreSQL (pgserver, or TEST_DATABASE_URL when set). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
