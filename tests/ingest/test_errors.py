"""Every row of the ingest error table, over real HTTP, with the job row it leaves."""

from __future__ import annotations

import struct
import zlib

import pytest
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.ingest.models import FINISH_GRACE, Job
from app.settings.service import save_settings
from app.slots.models import Slot
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.stored import files_under, only_job


def test_unknown_slot_is_404_slot_not_found(live_server, http, jpeg):
    response = post_photo(http, ingest_url(live_server.url, "slot-999"), jpeg)
    assert_error(response, 404, "slot_not_found")


@pytest.mark.parametrize("slot_id", ["slot%00", "slot-001%00", "x" * 300, "SLOT-001"])
def test_malformed_slot_id_is_404_slot_not_found(live_server, http, jpeg, slot_id):
    response = post_photo(http, ingest_url(live_server.url, slot_id), jpeg)
    assert_error(response, 404, "slot_not_found")


def test_switched_off_slot_is_404_slot_disabled(live_server, http, jpeg, db_session):
    db_session.get(Slot, "slot-002").is_active = False
    db_session.commit()
    response = post_photo(http, ingest_url(live_server.url, "slot-002"), jpeg)
    assert_error(response, 404, "slot_disabled")


def test_body_that_is_not_multipart_is_400_invalid_request(live_server, http, jpeg):
    response = http.post(
        ingest_url(live_server.url), data=jpeg, headers={"Content-Type": "image/jpeg"}
    )
    assert_error(response, 400, "invalid_request")


def test_wrong_password_is_401_and_writes_no_job(live_server, http, jpeg, db_session):
    response = post_photo(http, ingest_url(live_server.url), jpeg, password="wrong")
    assert_error(response, 401, "invalid_password")
    assert db_session.scalars(select(Job)).all() == []


def test_missing_password_is_401(live_server, http, jpeg):
    response = post_photo(http, ingest_url(live_server.url), jpeg, password=None)
    assert_error(response, 401, "invalid_password")


def test_slot_password_replaces_the_global_one(live_server, http, jpeg, db_session):
    db_session.get(Slot, "slot-001").ingest_password_hash = hash_password("slot-only")
    db_session.commit()
    url = ingest_url(live_server.url)
    assert_error(post_photo(http, url, jpeg), 401, "invalid_password")
    assert post_photo(http, url, jpeg, password="slot-only").status_code == 200


def test_missing_file_part_is_400_and_recorded_as_failed(live_server, http, db_session):
    body = assert_error(post_photo(http, ingest_url(live_server.url), None), 400, "invalid_request")
    job = only_job(db_session)
    assert (job.id, job.status, job.failure_reason) == (body["job_id"], "failed", "invalid_request")


def test_empty_file_is_400_invalid_request(live_server, http):
    assert_error(post_photo(http, ingest_url(live_server.url), b""), 400, "invalid_request")


def test_file_alias_field_is_accepted(live_server, http, jpeg):
    response = post_photo(http, ingest_url(live_server.url), jpeg, field="file")
    assert response.status_code == 200


def test_non_image_is_415_whatever_the_declared_type(live_server, http):
    response = post_photo(http, ingest_url(live_server.url), b"%PDF-1.7 not a photo at all")
    assert_error(response, 415, "unsupported_media_type")


def test_gif_is_415_unsupported_media_type(live_server, http):
    gif = make_image_bytes(8, 8, "GIF")
    assert_error(post_photo(http, ingest_url(live_server.url), gif), 415, "unsupported_media_type")


def test_truncated_jpeg_is_400_invalid_image(live_server, http, db_session):
    photo = make_image_bytes(800, 600, noise=True)
    response = post_photo(http, ingest_url(live_server.url), photo[: len(photo) // 2])
    assert_error(response, 400, "invalid_image")
    assert only_job(db_session).failure_reason == "invalid_image"


def without_quantization_tables(photo: bytes) -> bytes:
    """``photo`` with complete headers and scan but no DQT segment: only a decode finds out."""
    kept, position = [photo[:2]], 2
    while photo[position + 1] != 0xDA:
        end = position + 2 + int.from_bytes(photo[position + 2 : position + 4], "big")
        if photo[position + 1] != 0xDB:
            kept.append(photo[position:end])
        position = end
    return b"".join([*kept, photo[position:]])


def test_complete_but_undecodable_jpeg_is_400_invalid_image_on_the_local_provider(
    live_server, http, db_session, media_root
):
    photo = without_quantization_tables(make_image_bytes(800, 600, noise=True))
    response = post_photo(http, ingest_url(live_server.url), photo)
    assert_error(response, 400, "invalid_image")
    assert only_job(db_session).failure_reason == "invalid_image"
    assert files_under(media_root / "results") == []


def test_file_over_the_slot_limit_is_413(live_server, http, db_session):
    db_session.get(Slot, "slot-001").size_limit_mb = 1
    db_session.commit()
    photo = make_image_bytes(1400, 1400, noise=True, quality=100)
    assert len(photo) > 1024 * 1024
    assert_error(post_photo(http, ingest_url(live_server.url), photo), 413, "payload_too_large")


def test_body_over_the_global_cap_is_refused_by_its_length(live_server, http, config):
    too_big = b"\xff\xd8\xff" + b"\0" * (config.max_upload_bytes + 1024 * 1024)
    response = post_photo(http, ingest_url(live_server.url), too_big)
    assert_error(response, 413, "payload_too_large")


def decompression_bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge canvas (its pixel data is a few kilobytes of zeros)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_413_before_decoding(live_server, http, db_session):
    response = post_photo(http, ingest_url(live_server.url), decompression_bomb_png(20000, 20000))
    body = assert_error(response, 413, "payload_too_large")
    assert "pixels" in body["message"]


def test_busy_slot_is_429_with_retry_after(live_server, http, jpeg, db_session, config):
    save_settings(db_session, config, {"slot_concurrency": 1}, "tests")
    running = Job(
        id="r" * 22,
        slot_id="slot-001",
        source="ingest",
        status="pending",
        provider="local",
        deadline_at=_in_seconds(30),
    )
    db_session.add(running)
    db_session.commit()
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert_error(response, 429, "slot_busy")
    assert int(response.headers["Retry-After"]) > 0


def test_pending_job_past_its_finish_grace_does_not_hold_the_slot(
    live_server, http, jpeg, db_session, config
):
    save_settings(db_session, config, {"slot_concurrency": 1}, "tests")
    dead = Job(
        id="d" * 22,
        slot_id="slot-001",
        source="ingest",
        status="pending",
        provider="local",
        deadline_at=_in_seconds(-FINISH_GRACE.total_seconds() - 1),
    )
    db_session.add(dead)
    db_session.commit()
    assert post_photo(http, ingest_url(live_server.url), jpeg).status_code == 200


def test_deadline_passed_is_504_with_no_files_left(
    live_server, http, jpeg, db_session, config, media_root
):
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    db_session.get(Slot, "slot-001").settings = {"style": "sepia", "delay_seconds": 30}
    db_session.commit()
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1.5)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert files_under(media_root) == []


def test_provider_rejecting_the_settings_is_502_provider_error(live_server, http, jpeg, db_session):
    db_session.get(Slot, "slot-001").settings = {"style": "no-such-style"}
    db_session.commit()
    body = assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_error")
    assert "no-such-style" in body["message"]
    assert only_job(db_session).failure_reason == "provider_error"


def test_unwritable_results_folder_is_500_internal_error_with_nothing_left(
    live_server, http, jpeg, db_session, media_root
):
    (media_root / "results" / "slot-001").write_text("a file where the slot folder should be")
    body = assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 500, "internal_error")
    job = only_job(db_session)
    assert (job.id, job.status, job.failure_reason) == (body["job_id"], "failed", "internal_error")
    assert list((media_root / "temp").iterdir()) == []


def test_error_messages_are_russian_by_default_and_english_on_request(live_server, http, jpeg):
    url = ingest_url(live_server.url, "slot-999")
    russian = post_photo(http, url, jpeg).json()["message"]
    english = post_photo(http, url, jpeg, headers={"Accept-Language": "en"}).json()["message"]
    assert russian != english
    assert any("а" <= char <= "я" for char in russian.lower())


def _in_seconds(seconds: float):
    from datetime import timedelta

    from app.db import utcnow

    return utcnow() + timedelta(seconds=seconds)
