#!/usr/bin/env bash
# Release check: `docker compose up` of this checkout on a real Docker engine, end to end.
#
#   sudo scripts/compose_smoke.sh
#
# Builds the image, starts app + postgres + cron with nginx (scripts/deploy/compose.nginx.yml)
# and the prometheus profile, waits for health, posts a booth photo through the app and through
# nginx, checks that Prometheus scrapes the app, runs the cron job once by hand and checks its
# heartbeat, restarts and recreates the app and finds the results again, checks that no container
# holds an anonymous volume, and tears everything down with its volumes. Exits non-zero at the
# first failed check, after printing the containers' state and logs.
#
# Made for a Debian machine without access to an image registry, as root: it installs Debian's
# docker.io (and starts dockerd) when missing, Compose v2 from Debian trixie's docker-compose
# package when `docker compose` is missing or older than 2.24, and builds stand-in base images from
# Debian packages (scripts/compose_smoke/*.Dockerfile, kept between runs). The stack runs as the
# compose project `photochanger-smoke` on host networking, on free loopback ports, so it touches
# neither a real deployment nor the network. Grafana is not started: Debian has no package for it.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
SMOKE_FILES="$ROOT/scripts/compose_smoke"
PROJECT=photochanger-smoke
IMAGE_PREFIX=photochanger-smoke
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
MIN_COMPOSE=2.24
INGEST_PASSWORD=smoke-ingest-password
STARTED=$SECONDS
STEP_STARTED=$SECONDS
WORK=""
STACK_UP=0
MAIN_PID=$$
RESULT_PATH=""

log() { printf '%s\n' "$*"; }
step() {
    log "    ($((SECONDS - STEP_STARTED)) s)"
    STEP_STARTED=$SECONDS
    log "==> $*"
}
ok() { log "    ok: $*"; }
fail() {
    log "FAIL: $*" >&2
    exit 1
}

compose() {
    docker compose --ansi never -p "$PROJECT" --project-directory "$ROOT" --env-file "$WORK/compose.env" \
        -f "$ROOT/docker-compose.yml" \
        -f "$ROOT/scripts/deploy/compose.nginx.yml" \
        -f "$SMOKE_FILES/compose.smoke.yml" \
        --profile prometheus "$@"
}

on_exit() {
    local status=$?
    [[ $BASHPID == "$MAIN_PID" ]] || return "$status" # not in a subshell
    if [[ $STACK_UP -eq 1 ]]; then
        if [[ $status -ne 0 ]]; then
            log "---- containers ----"
            compose ps -a || true
            log "---- last log lines ----"
            compose logs --no-color --tail=40 | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' || true
        fi
        log "==> tear down (containers, networks, volumes)"
        compose down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true
    fi
    [[ -n "$WORK" ]] && rm -rf -- "$WORK"
    if [[ $status -eq 0 ]]; then
        log "PASS: compose smoke in $((SECONDS - STARTED)) s"
    else
        log "FAIL: compose smoke (exit $status) after $((SECONDS - STARTED)) s" >&2
    fi
}

# --------------------------------------------------------------------------------------------
# The engine, Compose v2 and the stand-in images
# --------------------------------------------------------------------------------------------

ensure_engine() {
    [[ $(id -u) -eq 0 ]] || fail "run as root (installs and starts the Docker engine)"
    if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
        log "    installing Debian's docker.io"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    fi
    if ! docker info >/dev/null 2>&1; then
        log "    starting dockerd (log: /var/log/photochanger-smoke-dockerd.log)"
        nohup dockerd >/var/log/photochanger-smoke-dockerd.log 2>&1 &
        local i
        for i in $(seq 60); do
            docker info >/dev/null 2>&1 && break
            sleep 1
        done
        docker info >/dev/null 2>&1 || fail "dockerd did not start; see /var/log/photochanger-smoke-dockerd.log"
    fi
    ok "engine $(docker version --format '{{.Server.Version}}')"
}

compose_version() {
    { docker compose version --short 2>/dev/null || true; } | sed -E 's/^v//; s/[-+].*//'
}

version_at_least() { # version_at_least HAVE WANT
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

ensure_compose_v2() {
    local have
    have=$(compose_version)
    if [[ -z "$have" ]] || ! version_at_least "$have" "$MIN_COMPOSE"; then
        log "    installing Compose v2 from Debian trixie's docker-compose package (have: ${have:-none})"
        local tmp opts
        tmp=$(mktemp -d)
        mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR trixie main" >"$tmp/sources.list"
        opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User=root)
        apt-get "${opts[@]}" update -qq
        (cd "$tmp" && apt-get "${opts[@]}" download docker-compose >/dev/null 2>&1)
        dpkg-deb -x "$tmp"/docker-compose_*.deb "$tmp/root"
        install -D -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" \
            /usr/libexec/docker/cli-plugins/docker-compose
        rm -rf -- "$tmp"
        have=$(compose_version)
        version_at_least "${have:-0}" "$MIN_COMPOSE" || fail "Compose v2 >= $MIN_COMPOSE not available (have: ${have:-none})"
    fi
    ok "docker compose $have"
}

build_standins() {
    local base="$IMAGE_PREFIX/debian:bookworm"
    if ! docker image inspect "$base" >/dev/null 2>&1; then
        command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        local rootfs
        rootfs=$(mktemp -d)
        log "    debootstrap bookworm → $base"
        debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >/dev/null
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$base" >/dev/null
        rm -rf -- "$rootfs"
    fi
    local context="$WORK/standin-context" name
    mkdir -p "$context"
    cp "$SMOKE_FILES"/*.Dockerfile "$SMOKE_FILES"/postgres-entrypoint.sh "$context"/
    cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca.crt"
    for name in python:3.11-slim-bookworm postgres:standin nginx:standin prometheus:standin; do
        DOCKER_BUILDKIT=0 docker build --network host --build-arg "BASE_IMAGE=$base" \
            -f "$context/${name%%:*}.Dockerfile" -t "$IMAGE_PREFIX/$name" "$context" \
            >"$WORK/standin-${name%%:*}.log" 2>&1 || {
            tail -n 30 "$WORK/standin-${name%%:*}.log"
            fail "building the stand-in $IMAGE_PREFIX/$name"
        }
    done
    ok "stand-ins $IMAGE_PREFIX/{python:3.11-slim-bookworm,postgres,nginx,prometheus}:… (Debian bookworm)"
}

# --------------------------------------------------------------------------------------------
# The smoke's own settings: free ports, env files, the nginx and Prometheus configs
# --------------------------------------------------------------------------------------------

free_ports() { # free_ports N: N distinct free TCP ports on 127.0.0.1
    python3 - "$1" <<'EOF'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
}

write_settings() {
    read -r APP_PORT POSTGRES_PORT NGINX_PORT PROMETHEUS_PORT <<<"$(free_ports 4)"
    cat >"$WORK/compose.env" <<EOF
SMOKE_WORK=$WORK
SMOKE_IMAGE_PREFIX=$IMAGE_PREFIX
SMOKE_APP_PORT=$APP_PORT
SMOKE_POSTGRES_PORT=$POSTGRES_PORT
SMOKE_NGINX_PORT=$NGINX_PORT
SMOKE_PROMETHEUS_PORT=$PROMETHEUS_PORT
POSTGRES_PASSWORD=smoke-postgres-password
EOF
    cat >"$WORK/app.env" <<EOF
SECRET_KEY=smoke-secret-key-$(date +%s)-not-for-production
ADMIN_USERNAME=admin
ADMIN_PASSWORD=smoke-admin-password
INGEST_PASSWORD=$INGEST_PASSWORD
PUBLIC_BASE_URL=http://127.0.0.1:$NGINX_PORT
WEB_CONCURRENCY=2
THREADS=8
MEDIA_ACCEL_REDIRECT=/_protected_media/
EOF
    # The shipped nginx.conf with the app and listen addresses of host networking (Debian's
    # nginx 1.22 has no `resolve` upstreams and there is no Docker DNS on the host network).
    sed -E \
        -e '/^[[:space:]]*resolver[[:space:]]/d' \
        -e "s/server[[:space:]]+app:8000[^;]*;/server 127.0.0.1:$APP_PORT;/" \
        -e "/^[[:space:]]*listen[[:space:]]+\[::\]/d" \
        -e "s/^([[:space:]]*)listen[[:space:]]+80([[:space:];])/\1listen 127.0.0.1:$NGINX_PORT\2/" \
        "$ROOT/scripts/deploy/nginx.conf" >"$WORK/nginx.conf"
    grep -q "server 127.0.0.1:$APP_PORT;" "$WORK/nginx.conf" || fail "nginx.conf: upstream app:8000 not found to rewrite"
    grep -q "listen 127.0.0.1:$NGINX_PORT" "$WORK/nginx.conf" || fail "nginx.conf: listen 80 not found to rewrite"
    # The prometheus.yml docker-compose.yml mounts, with the smoke's addresses.
    local prometheus_yml
    prometheus_yml=$(sed -nE 's#^[[:space:]]*- \./([^:]+):/etc/prometheus/prometheus\.yml.*#\1#p' "$ROOT/docker-compose.yml")
    [[ -n "$prometheus_yml" && -f "$ROOT/$prometheus_yml" ]] || fail "the prometheus.yml docker-compose.yml mounts was not found"
    sed -e "s/app:8000/127.0.0.1:$APP_PORT/g" -e "s/localhost:9090/127.0.0.1:$PROMETHEUS_PORT/g" \
        "$ROOT/$prometheus_yml" >"$WORK/prometheus.yml"
    grep -q "127.0.0.1:$APP_PORT" "$WORK/prometheus.yml" || fail "prometheus.yml: target app:8000 not found to rewrite"
    ok "ports: app $APP_PORT, postgres $POSTGRES_PORT, nginx $NGINX_PORT, prometheus $PROMETHEUS_PORT (127.0.0.1)"
}

# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

http_status() { # http_status URL [curl args…]
    local url=$1
    shift
    curl -sS -o /dev/null -w '%{http_code}' --max-time 30 "$@" "$url"
}

expect_status() { # expect_status WANT WHAT URL [curl args…]
    local want=$1 what=$2 url=$3 got
    shift 3
    got=$(http_status "$url" "$@") || got="no answer"
    [[ "$got" == "$want" ]] || fail "$what: $url answered $got, expected $want"
    ok "$what: $want"
}

post_photo() { # post_photo BASE_URL SLOT → RESULT_PATH, the result page's path
    local base=$1 slot=$2
    local headers="$WORK/headers.$slot" body="$WORK/body.$slot" status
    status=$(curl -sS --max-time 90 -o "$body" -D "$headers" -w '%{http_code}' \
        -F "password=$INGEST_PASSWORD" -F "fileToUpload=@$WORK/photo.jpg;type=image/jpeg" \
        "$base/ingest/$slot") || fail "POST $base/ingest/$slot: no answer"
    [[ "$status" == 200 ]] || fail "POST $base/ingest/$slot answered $status: $(head -c 300 "$body")"
    grep -qi '^content-type: image/jpeg' "$headers" || fail "POST $base/ingest/$slot: not a JPEG answer"
    local result_url
    result_url=$(sed -nE 's/^[Xx]-[Rr]esult-[Uu]rl:[[:space:]]*([^[:space:]]+).*/\1/p' "$headers")
    [[ -n "$result_url" ]] || fail "POST $base/ingest/$slot: no X-Result-Url"
    RESULT_PATH=${result_url#http*://*/}
}

check_accel_redirect() { # check_accel_redirect JOB_ID (posted to slot-002)
    local job_id=$1 headers="$WORK/accel.headers"
    curl -sS --max-time 10 -o /dev/null -D "$headers" "http://127.0.0.1:$APP_PORT/public/results/$job_id"
    grep -qi '^x-accel-redirect: /_protected_media/' "$headers" || fail "the app sends no X-Accel-Redirect for a result file"
    local status
    status=$(curl -sS --max-time 10 -o "$WORK/accel.jpg" -w '%{http_code}' \
        "http://127.0.0.1:$NGINX_PORT/public/results/$job_id") || status="no answer"
    [[ "$status" == 200 ]] || fail "result file through nginx answered $status"
    cmp -s "$WORK/accel.jpg" "$WORK/body.slot-002" || fail "nginx served other bytes than the ingest answer"
    ok "result file through nginx by X-Accel-Redirect: 200, the ingest answer's bytes"
}

wait_healthy() { # wait_healthy SERVICE TIMEOUT
    local service=$1 timeout=$2 id state i
    id=$(compose ps -q "$service")
    [[ -n "$id" ]] || fail "$service has no container"
    for i in $(seq "$timeout"); do
        state=$(docker inspect -f '{{.State.Health.Status}}' "$id")
        [[ "$state" == healthy ]] && return 0
        sleep 1
    done
    fail "$service not healthy after $timeout s (state: $state)"
}

check_prometheus_target() {
    local i up=""
    for i in $(seq 90); do
        up=$(curl -sS --max-time 5 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets" 2>/dev/null | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
print(" ".join(t["health"] for t in targets if t["labels"].get("job") == "photochanger"))' 2>/dev/null) || true
        [[ "$up" == up ]] && break
        sleep 1
    done
    [[ "$up" == up ]] || fail "Prometheus: the photochanger target is '${up:-missing}', not up"
    ok "Prometheus scrapes the app: target up"
    local rules
    rules=$(curl -sS --max-time 5 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/rules" | python3 -c '
import json, sys
print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')
    [[ "$rules" -gt 0 ]] || fail "Prometheus loaded no alert rules"
    ok "Prometheus loaded $rules alert rules"
    local series
    series=$(curl -sS --max-time 5 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" \
        --data-urlencode 'query=sum(photochanger_jobs_total)' | python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
print(result[0]["value"][1] if result else "none")')
    log "    info: sum(photochanger_jobs_total) in Prometheus = $series"
}

check_cron_job() {
    local heartbeat=/run/photochanger/cron.heartbeat before after command
    before=$(compose exec -T cron stat -c %Y "$heartbeat") || fail "cron: no heartbeat file"
    sleep 1.1
    # The crontab line's command (fields 7…), run exactly as cron would.
    command=$(grep -E '^[^#[:space:]].*photochanger cleanup' "$ROOT/crontab" | head -n1 |
        sed -E 's/^([^[:space:]]+[[:space:]]+){6}//')
    [[ -n "$command" ]] || fail "crontab: no photochanger cleanup line"
    compose exec -T cron sh -c "$command" || fail "cron: the job failed"
    after=$(compose exec -T cron stat -c %Y "$heartbeat")
    [[ "$after" -gt "$before" ]] || fail "cron: the heartbeat was not refreshed by the job"
    ok "cron job ran as in the crontab; heartbeat refreshed ($before → $after)"
    local i logs=""
    for i in $(seq 10); do
        logs=$(compose logs --no-color --no-log-prefix cron)
        grep -q '"cleanup.finished"' <<<"$logs" && break
        sleep 1
    done
    grep -q '"cleanup.finished"' <<<"$logs" || fail "cron: the job's output is not in the container log"
    ok "the job's output is in the cron container's log"
}

check_no_anonymous_volumes() {
    local id mounts
    for id in $(compose ps -q); do
        mounts=$(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{.Destination}}{{"\n"}}{{end}}{{end}}' "$id")
        if grep -Eq '^[0-9a-f]{64} ' <<<"$mounts"; then
            fail "$(docker inspect -f '{{.Name}}' "$id") holds an anonymous volume: $(grep -E '^[0-9a-f]{64} ' <<<"$mounts" | head -n1)"
        fi
    done
    ok "no container holds an anonymous volume"
}

report_log_format() {
    local logs lines not_json
    logs=$(compose logs --no-color --no-log-prefix app | sed 's/\x1b\[[0-9;]*[A-Za-z]//g')
    lines=$(grep -c . <<<"$logs" || true)
    not_json=$(grep -vc '^{' <<<"$logs" || true)
    log "    info: app log lines: $lines, not JSON: $not_json"
}

# --------------------------------------------------------------------------------------------

main() {
    trap on_exit EXIT
    log "==> Docker engine"
    ensure_engine
    step "Compose v2"
    ensure_compose_v2
    WORK=$(mktemp -d /tmp/photochanger-smoke.XXXXXX)
    step "stand-in base images"
    build_standins
    step "settings"
    write_settings
    compose down --volumes --remove-orphans --timeout 5 >/dev/null 2>&1 || true

    step "build the PhotoChanger image (docker compose build)"
    compose build app cron >"$WORK/build.log" 2>&1 || {
        tail -n 40 "$WORK/build.log"
        fail "docker compose build"
    }
    ok "image $(docker image inspect -f '{{.Id}}' "$IMAGE_PREFIX/app:local" | cut -c1-19) ($(docker image inspect -f '{{.Size}}' "$IMAGE_PREFIX/app:local" | awk '{printf "%d MB", $1/1e6}'))"

    step "docker compose up (app, postgres, cron, nginx, prometheus) and wait for health"
    STACK_UP=1
    compose up -d --wait --wait-timeout 180 >"$WORK/up.log" 2>&1 || {
        cat "$WORK/up.log"
        fail "docker compose up --wait"
    }
    compose ps --format 'table {{.Service}}\t{{.Status}}' | sed 's/^/    /'
    check_no_anonymous_volumes

    step "booth photos through the app and through nginx"
    compose exec -T app python -c '
import io, sys
from PIL import Image
buffer = io.BytesIO()
Image.new("RGB", (640, 480), (200, 120, 40)).save(buffer, "JPEG", quality=90)
sys.stdout.buffer.write(buffer.getvalue())' >"$WORK/photo.jpg"
    local direct proxied
    post_photo "http://127.0.0.1:$APP_PORT" slot-001
    direct=$RESULT_PATH
    ok "POST /ingest/slot-001 to the app: 200 image/jpeg, result /$direct"
    post_photo "http://127.0.0.1:$NGINX_PORT" slot-002
    proxied=$RESULT_PATH
    ok "POST /ingest/slot-002 through nginx: 200 image/jpeg, result /$proxied"
    expect_status 200 "result page through nginx" "http://127.0.0.1:$NGINX_PORT/$direct"
    check_accel_redirect "${proxied#r/}"
    expect_status 200 "healthz through nginx" "http://127.0.0.1:$NGINX_PORT/healthz"
    expect_status 404 "/metrics through nginx" "http://127.0.0.1:$NGINX_PORT/metrics"
    expect_status 401 "wrong ingest password through nginx" "http://127.0.0.1:$NGINX_PORT/ingest/slot-001" \
        -F password=wrong -F "fileToUpload=@$WORK/photo.jpg;type=image/jpeg"

    step "Prometheus"
    check_prometheus_target

    step "cron job, once by hand"
    check_cron_job

    step "restart the app and find the data"
    local id stop_started
    id=$(compose ps -q app)
    stop_started=$SECONDS
    compose stop app >/dev/null 2>&1
    log "    info: the app stopped in $((SECONDS - stop_started)) s, exit code $(docker inspect -f '{{.State.ExitCode}}' "$id") (stop_grace_period 75 s)"
    compose start app >/dev/null 2>&1
    wait_healthy app 120
    expect_status 200 "result page after restart (app)" "http://127.0.0.1:$APP_PORT/$direct"
    expect_status 200 "result page after restart (nginx)" "http://127.0.0.1:$NGINX_PORT/$proxied"
    compose up -d --no-deps --force-recreate app >/dev/null 2>&1
    wait_healthy app 120
    expect_status 200 "result page after recreating the app container" "http://127.0.0.1:$APP_PORT/$proxied"
    report_log_format

    step "tear down"
    compose down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || fail "docker compose down"
    STACK_UP=0
    [[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")" ]] || fail "containers left behind"
    [[ -z "$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")" ]] || fail "volumes left behind"
    ok "no container or volume of $PROJECT left"
    log "    ($((SECONDS - STEP_STARTED)) s)"
}

main "$@"
