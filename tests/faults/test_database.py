"""PostgreSQL stopped and started again under a running app: clear 503s while it is down, full
recovery after, and no request that got a photo without its rows (or rows without files).

The app talks to a PostgreSQL of its own (pgserver), so stopping it leaves the other tests alone.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from app.auth.passwords import hash_password
from app.config import Config
from app.db import standalone_session, upgrade_database, utcnow
from app.ingest.models import Job, JobStatus
from app.media.models import MediaObject
from app.media.storage import MediaStore
from app.ops.cleanup import run_cleanup
from app.settings.service import save_settings
from tests.fixtures.database import PgServer
from tests.support.images import make_image_bytes
from tests.support.ingest import INGEST_PASSWORD, assert_error, ingest_url, post_photo
from tests.support.servers import LiveServer
from tests.support.stored import files_under, use_provider

TEMPLATE = "photochanger_faults_template"
_numbers = itertools.count(1)


class StoppablePostgres:
    """A pgserver instance of this module's own, which tests stop and start."""

    def __init__(self, data_dir: Path) -> None:
        import pgserver
        from pgserver._commands import pg_ctl

        self._pg_ctl = pg_ctl
        self.server = pgserver.get_server(data_dir, cleanup_mode="delete")
        host = str(self.server.get_postmaster_info().socket_dir)
        self.pg = PgServer(host=host, port=5432, user="postgres", password=None)

    def stop(self) -> None:
        self._pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def running(self) -> bool:
        return bool(self.server.get_postmaster_info().is_running())


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppablePostgres]:
    postgres = StoppablePostgres(tmp_path_factory.mktemp("pg-faults"))
    template = postgres.pg.janitor(TEMPLATE, as_template=True)
    template.init()
    upgrade_database(postgres.pg.url(TEMPLATE))
    yield postgres
    postgres.start()
    postgres.server.cleanup()


@pytest.fixture
def own_database_url(postgres: StoppablePostgres) -> Iterator[str]:
    name = f"photochanger_faults_{next(_numbers)}"
    janitor = postgres.pg.janitor(name, template_dbname=TEMPLATE)
    janitor.init()
    yield postgres.pg.url(name)
    postgres.start()  # a failed test may have left it stopped
    janitor.drop()


@pytest.fixture
def own_session(own_database_url: str) -> Iterator[Session]:
    with standalone_session(own_database_url) as session:
        yield session


@pytest.fixture
def served(
    make_config: Callable[..., Config], own_database_url: str, own_session: Session
) -> Iterator[LiveServer]:
    """The app on its own database with a 10 s deadline, a booth slot on the instant local
    provider."""
    config = make_config(database_url=own_database_url)
    password_hash = hash_password(INGEST_PASSWORD)
    settings = {"ingest_password_hash": password_hash, "sync_response_seconds": 10}
    save_settings(own_session, config, settings, "tests")
    use_provider(own_session, "local", {"style": "sepia"})
    app = create_app(config)
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["db_engine"].dispose()


def wait_until(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not true after {seconds} s"
        time.sleep(0.2)


def healthy(url: str) -> bool:
    return requests.get(f"{url}/healthz", timeout=10).status_code == 200


def test_booth_post_and_healthz_are_503_database_unavailable_while_postgres_is_down(
    served, postgres, http
):
    photo = make_image_bytes()
    assert post_photo(http, ingest_url(served.url), photo).status_code == 200
    postgres.stop()
    booth = post_photo(http, ingest_url(served.url), make_image_bytes(color=(1, 2, 3)))
    assert_error(booth, 503, "database_unavailable")
    assert int(booth.headers["Retry-After"]) > 0
    health = requests.get(f"{served.url}/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json()["checks"]["database"].startswith("error")
    page = requests.get(f"{served.url}/r/{'a' * 22}", timeout=10)
    assert page.status_code == 503
    assert "text/html" in page.headers["Content-Type"]


def test_app_recovers_fully_once_postgres_is_back(served, postgres, http):
    postgres.stop()
    assert post_photo(http, ingest_url(served.url), make_image_bytes()).status_code == 503
    postgres.start()
    wait_until(lambda: healthy(served.url), 15)
    response = post_photo(http, ingest_url(served.url), make_image_bytes(color=(9, 9, 9)))
    assert response.status_code == 200, response.text


def test_job_finishing_while_postgres_is_down_waits_for_it_and_answers_its_photo(
    served, postgres, http, own_session
):
    use_provider(own_session, "local", {"style": "sepia", "delay_seconds": 2})
    answers: list[requests.Response] = []
    booth = threading.Thread(
        target=lambda: answers.append(post_photo(http, ingest_url(served.url), make_image_bytes()))
    )
    booth.start()
    wait_until(lambda: own_session.scalar(select(Job.id)) is not None, 5)
    own_session.rollback()
    postgres.stop()
    time.sleep(4)  # the provider answered meanwhile; its result waits for the database
    postgres.start()
    booth.join(15)
    [answer] = answers
    assert answer.status_code == 200, answer.text
    job = own_session.get(Job, answer.headers["X-Job-Id"])
    assert job is not None and job.status == JobStatus.DONE


@dataclass
class Traffic:
    """Booth posts sent one after another from a few threads until told to stop."""

    url: str
    answers: list[tuple[int, str, str | None]] = field(default_factory=list)
    """(status, failure_reason or "", X-Job-Id)"""
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, threads: int) -> list[threading.Thread]:
        workers = [threading.Thread(target=self._post) for _ in range(threads)]
        for worker in workers:
            worker.start()
        return workers

    def _post(self) -> None:
        with requests.Session() as http:
            while True:
                if self.stop.is_set():
                    return
                photo = make_image_bytes(96, 64, noise=True)  # never a repeat of another
                response = post_photo(http, self.url, photo, timeout=30)
                reason = "" if response.ok else response.json().get("failure_reason", "?")
                self.answers.append(
                    (response.status_code, reason, response.headers.get("X-Job-Id"))
                )


def test_traffic_through_a_postgres_restart_gets_only_photos_or_503s_and_loses_no_rows(
    served, postgres, own_session, media_root
):
    traffic = Traffic(ingest_url(served.url))
    workers = traffic.run(threads=3)
    try:
        wait_until(lambda: len(traffic.answers) >= 6, 20)
        postgres.stop()
        # Back within the 10 s deadline of the jobs caught mid-way, which wait for it.
        stopped = time.monotonic()
        wait_until(
            lambda: (
                sum(s == 503 for s, _, _ in traffic.answers) >= 3 or time.monotonic() - stopped > 3
            ),
            5,
        )
        postgres.start()
        wait_until(lambda: healthy(served.url), 15)
        wait_until(lambda: [s for s, _, _ in traffic.answers[-6:]] == [200] * 6, 30)
    finally:
        traffic.stop.set()
        for worker in workers:
            worker.join(40)

    outcomes = {(status, reason) for status, reason, _ in traffic.answers}
    assert outcomes <= {(200, ""), (503, "database_unavailable"), (429, "slot_busy")}, outcomes
    # Jobs caught mid-way when the database went away waited for it (within their deadline) to
    # write their outcome: none is left pending, none needs the cleanup.
    own_session.expire_all()
    jobs = {job.id: job for job in own_session.scalars(select(Job))}
    assert [job.id for job in jobs.values() if job.status == JobStatus.PENDING] == []
    summary = run_cleanup(own_session, MediaStore(media_root), now=utcnow() + timedelta(hours=2))
    assert summary.interrupted == 0
    photos = [job_id for status, _, job_id in traffic.answers if status == 200]
    statuses = {job_id: jobs[job_id].status if job_id in jobs else None for job_id in photos}
    assert statuses == dict.fromkeys(photos, JobStatus.DONE)
    stored = {str(path.relative_to(media_root)) for path in files_under(media_root / "results")}
    rows = set(
        own_session.scalars(select(MediaObject.path).where(MediaObject.deleted_at.is_(None)))
    )
    assert stored == rows
    done = [job for job in jobs.values() if job.status == JobStatus.DONE]
    assert [job.id for job in done if not (media_root / str(job.result_path)).is_dir()] == []
