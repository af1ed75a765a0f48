#!/usr/bin/env bash
# Install what is needed and serve PhotoChanger on http://127.0.0.1:8000 (embedded PostgreSQL
# unless DATABASE_URL is set). Environment variables: see .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/photochanger serve
