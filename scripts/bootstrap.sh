#!/usr/bin/env bash
# Creates .venv and installs the project (with test tools when $1 is "test"); compiles the
# translation catalogs. Sourced by run.sh and test.sh; safe to run again (skips a fresh install).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

extras="${1:-}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "PhotoChanger needs Python >= 3.11 (found: $("$python" --version 2>&1))." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installing python3-venv with apt-get…"
      apt-get update -qq
      apt-get install -y -qq "python3-venv" "python$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv" \
        >/dev/null 2>&1 || apt-get install -y -qq python3-venv >/dev/null
      "$python" -m venv .venv
    else
      echo "Cannot create a virtualenv: install python3-venv (sudo apt-get install python3-venv)." >&2
      exit 1
    fi
  fi
fi

spec="."
[ "$extras" = "test" ] && spec=".[test]"
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras:-run}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet --editable "$spec"
  touch "$stamp"
fi

.venv/bin/pybabel compile --use-fuzzy -d app/translations >/dev/null
