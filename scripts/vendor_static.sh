#!/usr/bin/env bash
# Refreshes the vendored front-end files in app/static/vendor from the npm registry (no CDN at run
# time). Pinned versions; run by hand when upgrading, then commit the result and VERSIONS.
set -euo pipefail
cd "$(dirname "$0")/.."
target=app/static/vendor
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {  # package@version file-in-package destination-name
  (cd "$work" && npm pack --silent "$1" >/dev/null)
  tarball="$(ls "$work"/*.tgz)"
  tar -xzf "$tarball" -C "$work"
  cp "$work/package/$2" "$target/$3"
  rm -rf "$work/package" "$tarball"
  echo "$1 $2 sha256:$(sha256sum "$target/$3" | cut -d' ' -f1)" >>"$target/VERSIONS.new"
}

: >"$target/VERSIONS.new"
fetch htmx.org@2.0.11 dist/htmx.min.js htmx.min.js
fetch chart.js@4.5.1 dist/chart.umd.min.js chart.umd.min.js
mv "$target/VERSIONS.new" "$target/VERSIONS"
