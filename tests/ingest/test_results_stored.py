"""What a successful ingest answers and leaves on disk and in the database."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from app.ingest.models import Job
from app.media.models import MediaObject
from app.slots.models import Slot
from tests.support.images import make_image_bytes
from tests.support.ingest import ingest_url, post_photo


def test_success_answers_image_with_job_headers(live_server, http, jpeg):
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.headers["Cache-Control"] == "no-store"
    job_id = response.headers["X-Job-Id"]
    assert len(job_id) == 22
    assert response.headers["X-Result-Url"] == f"{live_server.url}/r/{job_id}"
    assert Image.open(io.BytesIO(response.content)).format == "JPEG"


def test_result_folder_holds_payload_preview_and_source(
    live_server, http, jpeg, media_root, db_session
):
    response = post_photo(http, ingest_url(live_server.url), jpeg, extra={"user_id": "Acer"})
    job = db_session.get(Job, response.headers["X-Job-Id"])
    assert job.status == "done"
    assert job.result_path == f"results/slot-001/{job.id}"
    folder = media_root / job.result_path
    assert sorted(p.name for p in folder.iterdir()) == ["payload.jpg", "preview.webp", "source.jpg"]
    assert (folder / "payload.jpg").read_bytes() == response.content
    assert (folder / "source.jpg").read_bytes() == jpeg
    assert list((media_root / "temp").iterdir()) == []
    assert job.client_meta == {"user_id": "Acer"}
    assert job.input_bytes == len(jpeg)
    assert job.result_bytes == len(response.content)
    assert job.duration_ms is not None and job.provider_ms is not None
    assert job.duration_ms >= job.provider_ms
    assert (job.result_expires_at - job.finished_at).total_seconds() == pytest.approx(72 * 3600)
    kinds = db_session.scalars(select(MediaObject.kind).where(MediaObject.job_id == job.id)).all()
    assert sorted(kinds) == ["payload", "preview", "source"]


@pytest.mark.parametrize(
    ("output_format", "upload_format", "expected"),
    [
        ("same", "PNG", "PNG"),
        ("same", "WEBP", "WEBP"),
        ("png", "JPEG", "PNG"),
        ("webp", "JPEG", "WEBP"),
        ("jpeg", "PNG", "JPEG"),
    ],
)
def test_output_follows_the_slot_format(
    live_server, http, db_session, output_format, upload_format, expected
):
    db_session.get(Slot, "slot-001").output_format = output_format
    db_session.commit()
    photo = make_image_bytes(300, 200, upload_format)
    response = post_photo(http, ingest_url(live_server.url), photo)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).format == expected
    assert response.headers["Content-Type"] == f"image/{expected.lower()}"


def test_large_photo_is_downscaled_to_the_slot_max_side(live_server, http, db_session):
    response = post_photo(http, ingest_url(live_server.url), make_image_bytes(5000, 2500))
    assert max(Image.open(io.BytesIO(response.content)).size) <= 2048


def test_exif_orientation_is_applied_and_metadata_is_not_returned(live_server, http):
    photo = make_image_bytes(400, 200, exif_orientation=6, with_gps=True)
    response = post_photo(http, ingest_url(live_server.url), photo)
    result = Image.open(io.BytesIO(response.content))
    assert result.size == (200, 400)
    assert len(result.getexif()) == 0


def test_booth_fields_are_kept_as_metadata_without_the_password(
    live_server, http, jpeg, db_session
):
    extra = {"time": "1758217512", "hash_hex": "7b6c", "{qr1}": "guest-42", "profile": "C:\\x.xml"}
    response = post_photo(http, ingest_url(live_server.url), jpeg, extra=extra)
    job = db_session.get(Job, response.headers["X-Job-Id"])
    assert job.client_meta == {
        "time": "1758217512",
        "hash": "7b6c",
        "{qr1}": "guest-42",
        "profile": "C:\\x.xml",
    }
