"""Repeated requests never call the provider twice: they replay or wait for the first job.

A replay is recorded as its own ``done`` job row pointing at the original (``replay_of``), with
no result of its own. A key is bound to its photo and to the dedupe window.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import requests
from sqlalchemy import select, update

from app.db import utcnow
from app.ingest.models import Job
from app.media.models import MediaObject
from app.public.service import live_results
from app.settings.service import save_settings
from app.slots.models import Slot
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.stored import files_under


def job_count(db_session) -> int:
    return len(db_session.scalars(select(Job)).all())


def processed_count(db_session) -> int:
    """Jobs that ran the pipeline themselves, leaving out replay rows."""
    return len(db_session.scalars(select(Job).where(Job.replay_of.is_(None))).all())


def replay_rows(db_session) -> list[Job]:
    db_session.expire_all()
    return list(db_session.scalars(select(Job).where(Job.replay_of.is_not(None))))


def test_same_idempotency_key_and_photo_replay_the_finished_result(live_server, http, db_session):
    url = ingest_url(live_server.url)
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    photo = make_image_bytes(color=(1, 2, 3))
    first = post_photo(http, url, photo, headers=headers)
    second = post_photo(http, url, photo, headers=headers)
    assert first.status_code == second.status_code == 200
    assert "X-Idempotent-Replay" not in first.headers
    assert second.headers["X-Idempotent-Replay"] == "true"
    assert second.headers["X-Job-Id"] == first.headers["X-Job-Id"]
    assert second.content == first.content
    assert processed_count(db_session) == 1


def test_same_key_with_another_photo_is_422_and_gets_no_image(live_server, http, db_session):
    url = ingest_url(live_server.url)
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    first = post_photo(http, url, make_image_bytes(color=(1, 2, 3)), headers=headers)
    second = post_photo(http, url, make_image_bytes(color=(9, 9, 9)), headers=headers)
    assert first.status_code == 200
    body = assert_error(second, 422, "idempotency_key_reused")
    assert second.headers["Content-Type"].startswith("application/json")
    assert "X-Idempotent-Replay" not in second.headers
    refused = db_session.get(Job, body["job_id"])
    assert (refused.status, refused.failure_reason) == ("failed", "idempotency_key_reused")
    assert refused.result_path is None and refused.replay_of is None
    assert replay_rows(db_session) == []


def test_key_stays_bound_to_its_first_photo_after_a_refused_reuse(live_server, http, db_session):
    url = ingest_url(live_server.url)
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    photo = make_image_bytes(color=(1, 2, 3))
    first = post_photo(http, url, photo, headers=headers)
    assert_error(
        post_photo(http, url, make_image_bytes(color=(9, 9, 9)), headers=headers),
        422,
        "idempotency_key_reused",
    )
    again = post_photo(http, url, photo, headers=headers)
    assert again.status_code == 200
    assert again.headers["X-Idempotent-Replay"] == "true"
    assert again.headers["X-Job-Id"] == first.headers["X-Job-Id"]


def test_key_used_before_the_dedupe_window_is_processed_anew(live_server, http, db_session):
    url = ingest_url(live_server.url)
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    first = post_photo(http, url, make_image_bytes(color=(1, 2, 3)), headers=headers)
    db_session.execute(update(Job).values(created_at=Job.created_at - timedelta(minutes=11)))
    db_session.commit()
    later = post_photo(http, url, make_image_bytes(color=(9, 9, 9)), headers=headers)
    assert later.status_code == 200
    assert "X-Idempotent-Replay" not in later.headers
    assert later.headers["X-Job-Id"] != first.headers["X-Job-Id"]
    assert later.content != first.content
    assert processed_count(db_session) == 2


def test_key_follows_the_configured_dedupe_window(live_server, http, db_session, config):
    save_settings(db_session, config, {"dedupe_window_minutes": 30}, "tests")
    url = ingest_url(live_server.url)
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    photo = make_image_bytes(color=(1, 2, 3))
    post_photo(http, url, photo, headers=headers)
    db_session.execute(update(Job).values(created_at=Job.created_at - timedelta(minutes=20)))
    db_session.commit()
    assert post_photo(http, url, photo, headers=headers).headers["X-Idempotent-Replay"] == "true"


def test_replay_writes_its_own_done_row_pointing_at_the_original(live_server, http, db_session):
    url = ingest_url(live_server.url)
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    photo = make_image_bytes(color=(1, 2, 3))
    first = post_photo(http, url, photo, headers=headers, extra={"user_id": "Acer"})
    second = post_photo(http, url, photo, headers=headers, extra={"user_id": "Dell"})
    assert second.headers["X-Idempotent-Replay"] == "true"
    [replay] = replay_rows(db_session)
    original = db_session.get(Job, first.headers["X-Job-Id"])
    assert replay.id != original.id
    assert replay.replay_of == original.id
    assert (replay.status, replay.source, replay.slot_id) == ("done", "ingest", "slot-001")
    assert replay.client_meta["user_id"] == "Dell"
    assert replay.idempotency_key == "booth-7-shot-42"
    assert replay.input_sha256 == original.input_sha256
    assert replay.created_at > original.created_at
    assert replay.finished_at is not None and replay.duration_ms is not None
    assert replay.result_path is None and replay.result_expires_at is None


def test_replay_adds_no_second_result_to_galleries_or_storage(
    live_server, http, db_session, media_root
):
    url = ingest_url(live_server.url)
    photo = make_image_bytes(color=(1, 2, 3))
    first = post_photo(http, url, photo)
    post_photo(http, url, photo)
    assert len(replay_rows(db_session)) == 1
    listed = live_results(db_session, utcnow(), 10, slot_id="slot-001")
    assert [item.job_id for item in listed] == [first.headers["X-Job-Id"]]
    owners = set(db_session.scalars(select(MediaObject.job_id)))
    assert owners == {first.headers["X-Job-Id"]}
    assert {path.parent.name for path in files_under(media_root / "results")} == owners


def test_same_photo_bytes_within_the_window_replay_without_a_key(
    live_server, http, jpeg, db_session
):
    url = ingest_url(live_server.url)
    first = post_photo(http, url, jpeg)
    second = post_photo(http, url, jpeg)
    assert second.headers["X-Idempotent-Replay"] == "true"
    assert second.headers["X-Job-Id"] == first.headers["X-Job-Id"]
    assert processed_count(db_session) == 1
    assert [row.replay_of for row in replay_rows(db_session)] == [first.headers["X-Job-Id"]]


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
    assert processed_count(db_session) == 1
    [replay] = replay_rows(db_session)
    assert replay.replay_of == responses["first"].headers["X-Job-Id"]
