"""``GET /metrics`` for Prometheus: prometheus-flask-exporter's request metrics, the job metrics of
``app.metrics``, and gauges read at scrape time from the database and the media volume.

Under gunicorn (``PROMETHEUS_MULTIPROC_DIR`` set, see ``app.ops.gunicorn_hooks``) every worker
writes its values to that folder and a scrape sums them, whichever worker answers it. Without it
(tests, the flask development server) each app has a registry of its own.

``photochanger_media_bytes`` and ``photochanger_cleanup_last_success_timestamp_seconds`` come from
the database rather than from process memory: the media total is the ``media_usage`` rollup that
triggers keep on every job write and cleanup delete (one small SUM, never a disk walk), and the
last successful cleanup is stored by the cleanup run, which usually runs in a cron process of
its own. So both are exact whichever process changed them, with no multiprocess gauge mode to
pick.

The media volume's size and free space come from one ``statvfs`` call per scrape (a syscall, not
a disk walk), so an alert can tell how full the volume is whatever else is stored on it.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
import structlog
from flask import Flask, Response, jsonify, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import metrics
from app.config import Config
from app.db import utcnow
from app.settings.models import SettingRow
from app.stats.models import MediaUsage

log = structlog.get_logger(__name__)

CLEANUP_SUCCESS_KEY = "cleanup_last_success_at"
"""The settings row holding the end of the last cleanup pass that finished without errors."""


def record_cleanup_success(session: Session, at: datetime | None = None) -> None:
    """Store that a full cleanup pass ended without errors (and commit)."""
    value = (at or utcnow()).isoformat()
    statement = insert(SettingRow).values(
        key=CLEANUP_SUCCESS_KEY, value=value, updated_at=utcnow(), updated_by="cleanup"
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[SettingRow.key],
            set_={"value": value, "updated_at": statement.excluded.updated_at},
        )
    )
    session.commit()


class DatabaseCollector(Collector):
    """The media volume's bytes and the last successful cleanup, one small query per scrape.

    When the database does not answer, both are left out (the app-down alert covers that)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        query = sa.select(
            sa.select(sa.func.coalesce(sa.func.sum(MediaUsage.bytes), 0)).scalar_subquery(),
            sa.select(SettingRow.value)
            .where(SettingRow.key == CLEANUP_SUCCESS_KEY)
            .scalar_subquery(),
        )
        try:
            with self.engine.connect() as connection:
                media_bytes, cleanup_at = connection.execute(query).one()
        except sa.exc.SQLAlchemyError as error:
            log.warning("metrics.database_unavailable", error=type(error).__name__)
            return
        yield GaugeMetricFamily(
            "photochanger_media_bytes",
            "Bytes of the live results on the media volume (from the media_objects rows).",
            value=float(media_bytes),
        )
        if cleanup_at is not None:
            yield GaugeMetricFamily(
                "photochanger_cleanup_last_success_timestamp_seconds",
                "Unix time the last full cleanup pass ended without errors.",
                value=datetime.fromisoformat(cleanup_at).timestamp(),
            )


class MediaVolumeCollector(Collector):
    """The size and the space left of the filesystem holding the media folder.

    When the folder cannot be read (the volume is not mounted), both are left out and a warning
    is logged: the health check reports that case."""

    def __init__(self, media_root: Path) -> None:
        self.media_root = media_root

    def collect(self) -> Iterator[Metric]:
        try:
            volume = os.statvfs(self.media_root)
        except OSError as error:
            log.warning("metrics.media_volume_unavailable", error=type(error).__name__)
            return
        yield GaugeMetricFamily(
            "photochanger_media_volume_size_bytes",
            "Size of the filesystem holding the media folder.",
            value=float(volume.f_blocks * volume.f_frsize),
        )
        yield GaugeMetricFamily(
            "photochanger_media_volume_avail_bytes",
            "Bytes of the media filesystem the app can still write (free to non-root users).",
            value=float(volume.f_bavail * volume.f_frsize),
        )


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def init_app(app: Flask, config: Config, engine: sa.Engine) -> None:
    """Track every request and serve ``/metrics`` (behind ``METRICS_TOKEN`` when it is set)."""
    own_registry = CollectorRegistry(auto_describe=True)
    app.extensions["photochanger.request_metrics"] = PrometheusMetrics(
        app,
        path=None,
        registry=own_registry,
        group_by="endpoint",
        defaults_prefix="flask",
        excluded_paths=["^/metrics$"],
    )
    scrape_time = (DatabaseCollector(engine), MediaVolumeCollector(config.media_root))
    if not multiprocess_mode():
        for metric in metrics.JOB_METRICS:
            own_registry.register(metric)
        for collector in scrape_time:
            own_registry.register(collector)

    def prometheus_metrics() -> Response | tuple[Response, int]:
        if config.metrics_token and not bearer_matches(config.metrics_token):
            answer = jsonify(
                status="error",
                failure_reason="token_invalid",
                message="Send the METRICS_TOKEN as Authorization: Bearer.",
            )
            answer.headers["WWW-Authenticate"] = "Bearer"
            return answer, 401
        registry = own_registry
        if multiprocess_mode():
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            for collector in scrape_time:
                registry.register(collector)
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(registry), content_type=content_type)

    app.add_url_rule("/metrics", "metrics", prometheus_metrics, methods=["GET"])


def bearer_matches(token: str) -> bool:
    sent = request.headers.get("Authorization", "")
    scheme, _, credentials = sent.partition(" ")
    expected = token.encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credentials.strip().encode(), expected
    )
