"""``GET /metrics``: the Prometheus text a scrape gets, its token, and totals summed over the
workers of a real gunicorn."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
from prometheus_client.mmap_dict import MmapedDict

from app import create_app
from app.db import utcnow
from app.media.storage import MediaStore
from app.ops.cleanup import run_cleanup
from app.ops.serve import metrics_dir_env
from tests.support.images import make_image_bytes
from tests.support.ingest import ingest_url, post_photo
from tests.support.metrics import scrape, total


def test_a_booth_post_shows_in_the_job_provider_and_request_series(live_server, http, jpeg):
    done = {"slot": "slot-001", "provider": "local", "outcome": "done"}
    before = scrape(http, live_server.url)

    assert post_photo(http, ingest_url(live_server.url), jpeg).status_code == 200
    after = scrape(http, live_server.url)

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert grew("photochanger_jobs_total", **done, source="ingest") == 1
    assert grew("photochanger_job_duration_seconds_count", provider="local", outcome="done") == 1
    assert grew("photochanger_provider_duration_seconds_count", provider="local") == 1
    assert grew("photochanger_provider_duration_seconds_bucket", provider="local", le="60.0") == 1
    assert total(after, "photochanger_inflight_jobs") == 0
    assert total(after, "photochanger_media_bytes") > total(before, "photochanger_media_bytes")
    assert grew("flask_http_request_total", status="200") == 1  # the post; scrapes don't count


def test_a_failed_job_counts_its_failure_reason(live_server, http, jpeg):
    before = scrape(http, live_server.url)

    assert post_photo(http, ingest_url(live_server.url), b"not an image").status_code == 415
    after = scrape(http, live_server.url)

    failed = [
        dict(labels)["outcome"]
        for (name, labels), value in after.items()
        if name == "photochanger_jobs_total" and value > before.get((name, labels), 0)
    ]
    assert failed == ["unsupported_media_type"]


def test_a_cleanup_run_sets_the_last_success_time(live_server, http, db_session, media_root):
    started = time.time()

    run_cleanup(db_session, MediaStore(media_root), now=utcnow())
    samples = scrape(http, live_server.url)

    last = total(samples, "photochanger_cleanup_last_success_timestamp_seconds")
    assert started - 1 <= last <= time.time() + 1


def test_a_dry_run_cleanup_is_not_a_success(live_server, http, db_session, media_root):
    run_cleanup(db_session, MediaStore(media_root), now=utcnow(), dry_run=True)

    samples = scrape(http, live_server.url)

    assert total(samples, "photochanger_cleanup_last_success_timestamp_seconds") == 0


def test_metrics_token_is_required_when_set(make_config, db_session):
    client = create_app(make_config(metrics_token="scrape-s3cret")).test_client()

    missing = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-s3cre"})
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-s3cret"})

    assert missing.status_code == wrong.status_code == 401
    assert missing.json and missing.json["failure_reason"] == "token_invalid"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert b"scrape-s3cret" not in missing.data
    assert right.status_code == 200
    assert b"photochanger_inflight_jobs" in right.data


def test_serve_empties_a_configured_multiprocess_folder(tmp_path):
    folder = tmp_path / "prom"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "notes.txt").write_text("kept")

    env = metrics_dir_env({"PROMETHEUS_MULTIPROC_DIR": str(folder)})

    assert env == {"PROMETHEUS_MULTIPROC_DIR": str(folder)}
    assert sorted(path.name for path in folder.iterdir()) == ["notes.txt"]


def job_counts_by_worker(folder: Path) -> dict[int, float]:
    """Per worker pid, the photochanger_jobs_total it wrote to the multiprocess folder."""
    counts: dict[int, float] = {}
    for file in folder.glob("counter_*.db"):
        pid = int(file.stem.split("_")[1])
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(file)):  # type: ignore[no-untyped-call]
            if json.loads(key)[0] == "photochanger_jobs":
                counts[pid] = counts.get(pid, 0) + value
    return counts


def test_two_gunicorn_workers_report_their_jobs_summed(
    start_gunicorn: Callable[..., object], http, tmp_path
):
    folder = Path(
        metrics_dir_env({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")})[
            "PROMETHEUS_MULTIPROC_DIR"
        ]
    )
    server = start_gunicorn(workers=2, threads=8, PROMETHEUS_MULTIPROC_DIR=str(folder))
    url: str = server.url  # type: ignore[attr-defined]
    posted = 0
    with ThreadPoolExecutor(8) as pool:
        for _burst in range(6):  # gthread workers accept unevenly: burst until both took jobs
            photos = [
                (f"slot-{i + 1:03d}", make_image_bytes(color=(posted + i, 90, 30)))
                for i in range(8)
            ]
            answers = pool.map(
                lambda pair: post_photo(requests.Session(), ingest_url(url, pair[0]), pair[1]),
                photos,
            )
            assert [answer.status_code for answer in answers] == [200] * 8
            posted += 8
            if len(job_counts_by_worker(folder)) == 2:
                break
    assert len(job_counts_by_worker(folder)) == 2, "one worker took every job"

    assert total(scrape(http, url), "photochanger_jobs_total", outcome="done") == posted

    process = psutil.Process(server.process.pid)  # type: ignore[attr-defined]
    victim = process.children()[0].pid
    os.kill(victim, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while psutil.pid_exists(victim) or len(process.children()) < 2:
        assert time.monotonic() < deadline, "gunicorn did not replace the worker"
        time.sleep(0.2)
    time.sleep(0.5)  # the master's child_exit hook runs as it reaps the worker

    assert total(scrape(http, url), "photochanger_jobs_total", outcome="done") == posted
    assert not (folder / f"gauge_livesum_{victim}.db").exists()
