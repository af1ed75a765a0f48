"""Repeated requests never call the provider twice: they replay or wait for the first job."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import requests
from sqlalchemy import select, update

from app.ingest.models import Job
from app.slots.models import Slot
from tests.support.images import make_image_bytes
from tests.support.ingest import ingest_url, post_photo


def job_count(db_session) -> int:
    return len(db_session.scalars(select(Job)).all())


def test_same_idempotency_key_replays_the_finished_result(live_server, http, db_session):
    url = ingest_url(live_server.url)
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    first = post_photo(http, url, make_image_bytes(color=(1, 2, 3)), headers=headers)
    second = post_photo(http, url, make_image_bytes(color=(9, 9, 9)), headers=headers)
    assert first.status_code == second.status_code == 200
    assert "X-Idempotent-Replay" not in first.headers
    assert second.headers["X-Idempotent-Replay"] == "true"
    assert second.headers["X-Job-Id"] == first.headers["X-Job-Id"]
    assert second.content == first.content
    assert job_count(db_session) == 1


def test_same_photo_bytes_within_the_window_replay_without_a_key(
    live_server, http, jpeg, db_session
):
    url = ingest_url(live_server.url)
    first = post_photo(http, url, jpeg)
    second = post_photo(http, url, jpeg)
    assert second.headers["X-Idempotent-Replay"] == "true"
    assert second.headers["X-Job-Id"] == first.headers["X-Job-Id"]
    assert job_count(db_session) == 1


def test_same_photo_on_another_slot_is_processed_again(live_server, http, jpeg, db_session):
    post_photo(http, ingest_url(live_server.url, "slot-001"), jpeg)
    other = post_photo(http, ingest_url(live_server.url, "slot-002"), jpeg)
    assert "X-Idempotent-Replay" not in other.headers
    assert job_count(db_session) == 2


def test_same_photo_after_the_window_is_processed_again(live_server, http, jpeg, db_session):
    url = ingest_url(live_server.url)
    post_photo(http, url, jpeg)
    db_session.execute(update(Job).values(created_at=Job.created_at - timedelta(minutes=11)))
    db_session.commit()
    again = post_photo(http, url, jpeg)
    assert "X-Idempotent-Replay" not in again.headers
    assert job_count(db_session) == 2


def test_failed_original_is_not_replayed(live_server, http, jpeg, db_session):
    url = ingest_url(live_server.url)
    slot = db_session.get(Slot, "slot-001")
    slot.settings = {"style": "missing"}
    db_session.commit()
    assert post_photo(http, url, jpeg).status_code == 502
    slot.settings = {"style": "sepia"}
    db_session.commit()
    retry = post_photo(http, url, jpeg)
    assert retry.status_code == 200
    assert "X-Idempotent-Replay" not in retry.headers


def test_repeat_while_the_first_runs_waits_and_gets_its_result(live_server, http, jpeg, db_session):
    db_session.get(Slot, "slot-001").settings = {"style": "sepia", "delay_seconds": 2}
    db_session.commit()
    url = ingest_url(live_server.url)
    responses: dict[str, requests.Response] = {}

    def send(name: str) -> None:
        with requests.Session() as own:
            responses[name] = post_photo(own, url, jpeg)

    first = threading.Thread(target=send, args=("first",))
    first.start()
    time.sleep(0.7)
    send("second")
    first.join()
    assert responses["first"].status_code == responses["second"].status_code == 200
    assert responses["second"].headers["X-Idempotent-Replay"] == "true"
    assert responses["second"].headers["X-Job-Id"] == responses["first"].headers["X-Job-Id"]
    assert responses["second"].elapsed.total_seconds() > 0.8
    assert job_count(db_session) == 1
