#!/usr/bin/env bash
# Entrypoint of the `cron` service (same image as the app, started as root).
#
# Debian's cron starts every job with an almost empty environment, so this script
#   1. writes the container's environment (DATABASE_URL, MEDIA_ROOT, SECRET_KEY, *_FILE, …) to
#      $CRON_ENV_FILE as POSIX-shell `export NAME='value'` lines, mode 0600 root-only, which the
#      job sources before dropping to the `photochanger` user;
#   2. installs the repository's top-level `crontab` as /etc/cron.d/photochanger (root-owned,
#      0644, trailing newline: Debian cron silently ignores the file otherwise);
#   3. marks the cron heartbeat (the compose healthcheck requires it to be fresh; each
#      successful cleanup run touches it again);
#   4. execs `cron -f` (or the given command instead, e.g. for testing).
#
# The defaults are the container paths; the variables below exist so the script can be
# exercised outside the container. They must agree with the paths in `crontab`.
set -euo pipefail

CRON_ENV_FILE="${CRON_ENV_FILE:-/run/photochanger/cron.env}"
CRONTAB_SRC="${CRONTAB_SRC:-/app/crontab}"
CRONTAB_DEST="${CRONTAB_DEST:-/etc/cron.d/photochanger}"
CRON_HEARTBEAT="${CRON_HEARTBEAT:-/run/photochanger/cron.heartbeat}"

log() { printf 'cron-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ "$(id -u)" -eq 0 ]] || die "must run as root (compose: user: root); the job itself runs as photochanger"
[[ -r "$CRONTAB_SRC" ]] || die "crontab source $CRONTAB_SRC not found"

# Variables that describe this root shell, not the job's environment: cron and the job set them.
is_excluded() {
    case "$1" in
        HOME | USER | LOGNAME | SHELL | PWD | OLDPWD | SHLVL | _ | TERM | MAIL | \
            CRON_ENV_FILE | CRONTAB_SRC | CRONTAB_DEST | CRON_HEARTBEAT) return 0 ;;
        *) return 1 ;;
    esac
}

# 'value' with every ' turned into '\'' : safe for any byte sequence (newlines, $, `, \, ").
shell_quote() {
    local s=$1 q="'\\''"
    printf "'%s'" "${s//\'/$q}"
}

write_env_file() {
    local dir tmp name count=0
    dir=$(dirname -- "$CRON_ENV_FILE")
    install -d -m 0755 -- "$dir"
    tmp=$(mktemp -- "$dir/.cron.env.XXXXXX")
    chmod 0600 -- "$tmp"
    {
        printf '# Written by cron-entrypoint.sh at container start; sourced by %s.\n' "$CRONTAB_DEST"
        printf '# Contains secrets: keep it root-only (0600).\n'
        while IFS= read -r name; do
            [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
            is_excluded "$name" && continue
            printf 'export %s=%s\n' "$name" "$(shell_quote "${!name}")"
            count=$((count + 1))
        done < <(compgen -e | LC_ALL=C sort)
    } >"$tmp"
    mv -f -- "$tmp" "$CRON_ENV_FILE"
    log "wrote $count variables to $CRON_ENV_FILE"
}

install_crontab() {
    local tmp
    install -d -m 0755 -- "$(dirname -- "$CRONTAB_DEST")"
    tmp=$(mktemp)
    {
        cat -- "$CRONTAB_SRC"
        # Debian cron ignores a last line that lacks its newline: add it if missing.
        [[ -z "$(tail -c 1 -- "$CRONTAB_SRC")" ]] || printf '\n'
    } >"$tmp"
    install -m 0644 -o root -g root -- "$tmp" "$CRONTAB_DEST"
    rm -f -- "$tmp"
    log "installed $CRONTAB_SRC as $CRONTAB_DEST"
}

write_env_file
install_crontab
install -d -m 0755 -- "$(dirname -- "$CRON_HEARTBEAT")"
touch -- "$CRON_HEARTBEAT"

if [[ $# -eq 0 ]]; then
    set -- cron -f
fi
log "exec $*"
exec "$@"
