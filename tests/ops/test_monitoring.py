"""The monitoring profile: Prometheus' config and alert rules (checked and unit-tested with
promtool), the Grafana dashboard, and the metrics both of them query on a real running app."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from app.config import PROJECT_ROOT
from app.db import utcnow
from app.media.storage import MediaStore
from app.ops.cleanup import run_cleanup
from app.ops.serve import metrics_dir_env
from tests.support.fakes.gemini import API_KEY, GeminiFake
from tests.support.gemini_driver import PROMPT
from tests.support.ingest import ingest_url, post_photo
from tests.support.metrics import Samples, scrape, total
from tests.support.stored import use_provider

PROMETHEUS = PROJECT_ROOT / "scripts" / "deploy" / "prometheus"
GRAFANA = PROJECT_ROOT / "scripts" / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "photochanger.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
COMPOSE = PROJECT_ROOT / "docker-compose.yml"

PROMETHEUS_OWN_SERIES = {"up"}
"""Series Prometheus writes for each target itself; every other name must come from the app."""

REQUIRED_PANELS = {
    "Jobs per second by outcome": "photochanger_jobs_total",
    "p95 duration per provider": "photochanger_provider_duration_seconds_bucket",
    "In-flight jobs": "photochanger_inflight_jobs",
    "Media bytes": "photochanger_media_bytes",
    "Media volume use": "photochanger_media_volume_avail_bytes",
    "504 share": "flask_http_request_duration_seconds_count",
    "Cleanup age": "photochanger_cleanup_last_success_timestamp_seconds",
}
"""Panel title → a metric the panel must query."""

GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run Debian's promtool (scripts/test.sh installs it); fail when it is missing, unless the
    tests run without root and so could not have installed it."""
    path = shutil.which("promtool")
    if path is None:
        if os.geteuid() != 0:
            pytest.skip("promtool is missing: run 'sudo apt-get install prometheus'")
        pytest.fail("promtool is missing: scripts/test.sh installs Debian's prometheus package")
    return subprocess.run(
        [path, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def alert_rules() -> list[dict[str, Any]]:
    rules_file = PROMETHEUS / "alerts.yml"
    return [rule for group in load_yaml(rules_file)["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panel_queries() -> dict[str, list[str]]:
    return {
        panel["title"]: [target["expr"] for target in panel["targets"]]
        for panel in dashboard()["panels"]
    }


def without_selectors(expr: str) -> str:
    """``expr`` with its strings, label matchers, ranges and grouping clauses taken out."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    return GROUPING.sub("", expr)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions,
    operators, labels, durations or Grafana variables."""
    names = re.findall(r"(?<![\w$.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()", without_selectors(expr))
    return set(names) - PROMQL_KEYWORDS


def grouping_labels(expr: str) -> set[str]:
    return {
        label.strip()
        for labels in GROUPING.findall(expr)
        for label in labels.split(",")
        if label.strip()
    }


def matcher_labels(expr: str) -> set[tuple[str, str]]:
    """``(label, value)`` of every equality or inequality label matcher of ``expr``."""
    return set(re.findall(r'(\w+)\s*!?=\s*"([^"]*)"', expr))


def test_promtool_accepts_the_prometheus_config_and_its_rule_files():
    checked = promtool("check", "config", PROMETHEUS / "prometheus.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 1 rule files found" in checked.stdout


def test_promtool_accepts_the_alert_rules():
    checked = promtool("check", "rules", PROMETHEUS / "alerts.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alert_unit_tests_pass():
    tested = promtool("test", "rules", PROMETHEUS / "alerts_test.yml")

    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_unit_tested_firing_and_silent():
    cases = [
        case
        for test in load_yaml(PROMETHEUS / "alerts_test.yml")["tests"]
        for case in test["alert_rule_test"]
    ]

    for rule in alert_rules():
        name = rule["alert"]
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in mine), f"{name} is never shown firing"
        assert any(not case["exp_alerts"] for case in mine), f"{name} is never shown silent"


def test_every_alert_has_a_severity_summary_and_description():
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["description"]) > 80, rule["alert"]


def test_the_required_alerts_exist():
    names = {rule["alert"] for rule in alert_rules()}

    assert names >= {
        "PhotoChangerDown",
        "PhotoChangerHighErrorShare",
        "PhotoChangerProviderErrors",
        "PhotoChangerCleanupStale",
        "PhotoChangerCleanupNeverSucceeded",
        "PhotoChangerMediaVolumeFull",
    }


def test_compose_mounts_the_config_and_rule_files_where_prometheus_reads_them():
    service = load_yaml(COMPOSE)["services"]["prometheus"]
    mounts = {
        PurePosixPath(target.removesuffix(":ro")): PROJECT_ROOT / source
        for source, target in (volume.split(":", 1) for volume in service["volumes"])
        if source.startswith("./")
    }
    config_path = PurePosixPath("/etc/prometheus/prometheus.yml")
    config_file = mounts[config_path]
    rule_files = load_yaml(config_file)["rule_files"]

    assert config_file == PROMETHEUS / "prometheus.yml"
    for rule_file in rule_files:
        assert mounts[config_path.parent / rule_file] == config_file.parent / rule_file


def test_the_dashboard_has_a_uid_a_title_and_the_required_panels():
    board = dashboard()
    queries = panel_queries()

    assert board["uid"] == "photochanger-overview"
    assert board["title"] == "PhotoChanger"
    for title, metric in REQUIRED_PANELS.items():
        assert title in queries, f"no panel {title!r}"
        assert any(metric in metric_names(expr) for expr in queries[title]), (title, metric)


def test_every_panel_queries_the_provisioned_datasource():
    provisioned = load_yaml(DATASOURCES)["datasources"]
    assert [source["type"] for source in provisioned] == ["prometheus"]
    expected = {"type": "prometheus", "uid": provisioned[0]["uid"]}

    for panel in dashboard()["panels"]:
        assert panel["datasource"] == expected, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == expected, panel["title"]


def test_promtool_parses_every_panel_query(tmp_path):
    rules = [
        {"record": f"panel_{number}", "expr": expr.replace("$__rate_interval", "1m")}
        for number, expr in enumerate(expr for exprs in panel_queries().values() for expr in exprs)
    ]
    rules_file = tmp_path / "panels.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))

    checked = promtool("check", "rules", rules_file)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_metric_names_finds_the_metrics_and_nothing_else():
    expr = (
        'histogram_quantile(0.95, sum by (provider, le) (rate(a_bucket{status=~"5..",'
        ' x="y z"}[$__rate_interval]))) / on (instance) b_total > bool 0.1 and time() - c'
    )

    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_the_media_volume_gauges_match_statvfs(live_server, http, media_root):
    samples = scrape(http, live_server.url)
    volume = os.statvfs(media_root)

    size = total(samples, "photochanger_media_volume_size_bytes")
    avail = total(samples, "photochanger_media_volume_avail_bytes")
    assert size == volume.f_blocks * volume.f_frsize
    assert 0 < avail <= size
    assert abs(avail - volume.f_bavail * volume.f_frsize) < size * 0.05


@pytest.fixture
def exposed(
    start_gunicorn: Callable[..., Any],
    http,
    jpeg,
    db_session,
    media_root,
    tmp_path,
    gemini: GeminiFake,
) -> Samples:
    """What a scrape of a real gunicorn (multiprocess metrics, as deployed) returns after a
    booth job done, one refused by the provider, a /healthz probe and a cleanup run."""
    use_provider(
        db_session, "gemini", {"model": "gemini-2.5-flash-image", "prompt": PROMPT}, "slot-002"
    )
    gemini.api_key = "AIza-the-real-key-is-another"
    folder = metrics_dir_env({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")})
    server = start_gunicorn(GEMINI_API_KEY=API_KEY, GEMINI_API_BASE=gemini.base_url, **folder)
    assert post_photo(http, ingest_url(server.url), jpeg).status_code == 200
    assert post_photo(http, ingest_url(server.url, "slot-002"), jpeg).status_code == 502
    assert http.get(f"{server.url}/healthz", timeout=10).status_code == 200
    run_cleanup(db_session, MediaStore(media_root), now=utcnow())
    return scrape(http, server.url)


def test_every_dashboard_and_alert_query_names_metrics_the_app_exposes(exposed: Samples):
    exposed_names = {name for name, _labels in exposed}
    labels_of: dict[str, set[tuple[str, str]]] = {}
    for name, labels in exposed:
        labels_of.setdefault(name, set()).update(labels)
    queries = {f"panel {title!r}": exprs for title, exprs in panel_queries().items()} | {
        f"alert {rule['alert']}": [rule["expr"]] for rule in alert_rules()
    }

    for where, exprs in queries.items():
        for expr in exprs:
            names = metric_names(expr)
            assert names, (where, expr)
            assert names <= exposed_names | PROMETHEUS_OWN_SERIES, (where, names - exposed_names)
            app_labels = set().union(*(labels_of.get(name, set()) for name in names))
            label_names = {label for label, _value in app_labels} | {"instance", "job"}
            assert grouping_labels(expr) <= label_names, (where, expr)
            for label, value in matcher_labels(expr):
                assert label in label_names, (where, label)
                if label not in {"instance", "job", "status"}:
                    assert (label, value) in app_labels, (where, label, value)
