# PhotoChanger container image.
#
#   docker build -t photochanger .
#   docker run -p 8000:8000 -v media:/data/media -v state:/data/.photochanger photochanger
#                                               # embedded PostgreSQL (pgserver) kept in `state`
#   docker compose up -d --build                                        # app + postgres 16 + cron
#
# One image serves both the `app` service (`photochanger serve`, the default CMD) and the `cron`
# service (`scripts/cron-entrypoint.sh`, run as root, which drops to the `photochanger` user for
# the job itself).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --------------------------------------------------------------------------------------------
# Builder: a virtualenv in /opt/venv with all dependencies and the project installed as a wheel
# (not editable): the installed package carries its templates, migrations, static files and
# compiled catalogs. /app keeps only what is not Python package data (scripts/, crontab).
# --------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv \
 && pip install --upgrade pip "setuptools>=69" wheel

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml (or README.md, which
# pyproject.toml declares as the readme; the glob keeps the build going without it) changes. A
# stub package lets `pip install .` resolve and install every dependency; the stub itself is
# uninstalled right after.
COPY pyproject.toml README.md* ./
RUN mkdir app && touch app/__init__.py \
 && pip install . \
 && pip uninstall -y photochanger \
 && rm -rf app build ./*.egg-info

# The project itself.
COPY setup.py MANIFEST.in ./
COPY app ./app
COPY templates ./templates
COPY migrations ./migrations
COPY scripts ./scripts
COPY crontab ./crontab

# Non-editable install; build deps are the venv's own setuptools, wheel and babel (a dependency,
# installed above), and setup.py compiles the catalogs into the wheel. The sources go afterwards:
# gunicorn puts its working directory (/app) first on sys.path, where app/ would shadow the wheel.
RUN pip install --no-deps --no-build-isolation /app \
 && rm -rf app templates migrations build ./*.egg-info setup.py MANIFEST.in \
 && python -m compileall -q scripts \
 && chmod 0755 scripts/cron-entrypoint.sh

# --------------------------------------------------------------------------------------------
# Runtime
# --------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="PhotoChanger" \
      org.opencontainers.image.description="Self-hosted AI photo-processing server for photo studios and event photo booths"

# Pillow, psycopg[binary] and pgserver ship manylinux wheels with their own libjpeg and libpq
# (zlib is the base image's zlib1g, which Pillow loads as the system libz.so.1), so the only
# Debian package needed is `cron`, for the cron service.
#  - pam_loginuid is made optional: writing /proc/self/loginuid fails in many containers
#    (no CAP_AUDIT_CONTROL) and Debian's cron then refuses to run any job.
#  - the stock Debian cron jobs (dpkg, apt-compat, e2scrub…) are removed: the container runs
#    only /etc/cron.d/photochanger, installed at start by scripts/cron-entrypoint.sh.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cron \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && sed -i -E 's/^(session[[:space:]]+)required([[:space:]]+pam_loginuid\.so)/\1optional\2/' /etc/pam.d/cron \
 && rm -f /etc/cron.d/* /etc/cron.hourly/* /etc/cron.daily/* /etc/cron.weekly/* /etc/cron.monthly/*

# /data/media: MEDIA_ROOT. /data/.photochanger: the app's local state beside MEDIA_ROOT (a
# SECRET_KEY generated when none is configured; the embedded PostgreSQL when DATABASE_URL is
# unset), so it must persist too.
RUN groupadd --system --gid 10001 photochanger \
 && useradd --system --uid 10001 --gid photochanger \
        --home-dir /home/photochanger --create-home --shell /usr/sbin/nologin photochanger \
 && install -d -o photochanger -g photochanger -m 0755 /data /data/media \
 && install -d -o photochanger -g photochanger -m 0700 /data/.photochanger

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MEDIA_ROOT=/data/media \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
VOLUME ["/data/media", "/data/.photochanger"]
EXPOSE 8000

USER photochanger

# No curl in the slim image: probe /healthz with the standard library. urlopen raises on any
# non-2xx answer (503 = database or media volume failing), which exits non-zero.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["photochanger", "serve"]
