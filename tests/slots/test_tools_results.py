"""A slot's results on its page: recent thumbnails, the ZIP of live results, and cleaning its
expired media (page and API), against real rows and real files."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.ids import new_job_id
from app.ingest.models import Job
from app.ingest.results_zip import ZIP_CHUNK_BYTES, ZipEntry, zip_chunks
from app.media.models import MediaObject
from tests.support.images import make_image_bytes

HOUR = timedelta(hours=1)
PREVIEW = make_image_bytes(64, 48, "WEBP")


def add_result(
    session: Session,
    media_root: Path,
    *,
    slot_id: str = "slot-001",
    expires_in: timedelta = 10 * HOUR,
    cleaned: bool = False,
    created_ago: timedelta = HOUR,
    source: str = "ingest",
) -> tuple[Job, bytes]:
    """A finished job with its result folder, as ingest leaves them; returns the payload too."""
    now = utcnow()
    job_id = new_job_id()
    payload = make_image_bytes(80, 60, color=(len(job_id) * 3 % 255, 10, 200)) + job_id.encode()
    folder = media_root / "results" / slot_id / job_id
    if not cleaned:
        folder.mkdir(parents=True)
        (folder / "payload.jpg").write_bytes(payload)
        (folder / "preview.webp").write_bytes(PREVIEW)
    job = Job(
        id=job_id,
        slot_id=slot_id,
        source=source,
        status="done",
        provider="local",
        client_meta={},
        created_at=now - created_ago,
        started_at=now - created_ago,
        deadline_at=now - created_ago + 48 * timedelta(seconds=1),
        finished_at=now - created_ago + timedelta(seconds=2),
        result_path=f"results/{slot_id}/{job_id}",
        result_mime="image/jpeg",
        result_bytes=len(payload),
        result_expires_at=now + expires_in,
        cleaned_at=now - HOUR if cleaned else None,
    )
    session.add(job)
    session.flush()
    for name, content in (("payload.jpg", payload), ("preview.webp", PREVIEW)):
        session.add(
            MediaObject(
                job_id=job_id,
                slot_id=slot_id,
                kind=name.split(".")[0],
                path=f"{job.result_path}/{name}",
                mime="image/webp" if name.endswith("webp") else "image/jpeg",
                size_bytes=len(content),
            )
        )
    session.commit()
    return job, payload


def add_failed_job(session: Session) -> Job:
    now = utcnow()
    job = Job(
        id=new_job_id(),
        slot_id="slot-001",
        source="ingest",
        status="failed",
        failure_reason="provider_error",
        provider="local",
        client_meta={},
        created_at=now,
        deadline_at=now,
        finished_at=now,
    )
    session.add(job)
    session.commit()
    return job


@pytest.fixture
def mixed_results(db_session, media_root) -> dict[str, list[tuple[Job, bytes]]]:
    """Live results of slot-001 (a booth photo and a test run), and what must never show."""
    return {
        "live": [
            add_result(db_session, media_root, created_ago=2 * HOUR),
            add_result(db_session, media_root, source="ui_test"),
        ],
        "hidden": [
            add_result(db_session, media_root, expires_in=-HOUR),
            add_result(db_session, media_root, expires_in=-HOUR, cleaned=True),
            add_result(db_session, media_root, slot_id="slot-002"),
        ],
    }


def listed_job_ids(page: str) -> list[str]:
    return re.findall(r'<a href="/r/([^"]+)"', page)


def test_recent_results_show_only_the_slots_live_results_newest_first(
    admin_http, mixed_results, db_session
):
    add_failed_job(db_session)

    response = admin_http.get("/admin/slots/slot-001/recent", htmx=True)

    assert response.status_code == 200
    newest_first = [job.id for job, _ in reversed(mixed_results["live"])]
    assert listed_job_ids(response.text) == newest_first
    for job_id in newest_first:
        assert f'src="/public/results/{job_id}/preview"' in response.text


def test_recent_results_show_the_last_ten(admin_http, db_session, media_root):
    jobs = [add_result(db_session, media_root, created_ago=n * HOUR)[0] for n in range(1, 13)]

    response = admin_http.get("/admin/slots/slot-001/recent", htmx=True)

    assert listed_job_ids(response.text) == [job.id for job in jobs[:10]]


def test_recent_results_of_a_slot_without_any_say_so(admin_http):
    response = admin_http.get("/admin/slots/slot-003/recent", htmx=True)

    assert response.status_code == 200
    assert listed_job_ids(response.text) == []


def test_zip_holds_exactly_the_live_results_byte_for_byte(admin_http, mixed_results):
    response = admin_http.get("/admin/slots/slot-001/results.zip")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert re.fullmatch(
        r'attachment; filename="slot-001-results-\d{8}-\d{4}\.zip"',
        response.headers["Content-Disposition"],
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    expected = {f"slot-001/{job.id}.jpg": payload for job, payload in mixed_results["live"]}
    assert contents == expected


def test_zip_is_streamed_without_a_length_known_in_advance(admin_http, mixed_results):
    with admin_http.get("/admin/slots/slot-001/results.zip", stream=True) as response:
        assert "Content-Length" not in response.headers
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert zipfile.is_zipfile(io.BytesIO(response.raw.read()))


def test_zip_of_a_slot_without_live_results_is_a_valid_empty_archive(admin_http):
    response = admin_http.get("/admin/slots/slot-003/results.zip")

    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == []


def test_zip_is_produced_in_chunks_no_larger_than_a_read(tmp_path):
    files = []
    for n in range(3):
        path = tmp_path / f"{n}.jpg"
        path.write_bytes(bytes([n]) * (ZIP_CHUNK_BYTES * 4 + 17))
        files.append(ZipEntry(f"slot-001/{n}.jpg", path, datetime(2025, 5, 1, 12, 0)))

    chunks = list(zip_chunks(files))

    assert len(chunks) >= 15
    assert max(len(chunk) for chunk in chunks) <= ZIP_CHUNK_BYTES + 1024
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert [archive.read(f"slot-001/{n}.jpg") for n in range(3)] == [
            path.read_bytes() for path in (tmp_path / f"{n}.jpg" for n in range(3))
        ]


def test_zip_leaves_out_a_file_deleted_while_it_was_being_built(tmp_path):
    kept = tmp_path / "kept.jpg"
    kept.write_bytes(b"kept")
    entries = [
        ZipEntry("slot-001/gone.jpg", tmp_path / "gone.jpg", datetime(2025, 5, 1)),
        ZipEntry("slot-001/kept.jpg", kept, datetime(2025, 5, 1)),
    ]

    with zipfile.ZipFile(io.BytesIO(b"".join(zip_chunks(entries)))) as archive:
        assert archive.namelist() == ["slot-001/kept.jpg"]


def test_page_cleanup_removes_only_this_slots_expired_results(
    admin_http, mixed_results, db_session, media_root
):
    expired, payload = mixed_results["hidden"][0]
    other_slot = mixed_results["hidden"][2][0]

    response = admin_http.post("/admin/slots/slot-001/cleanup", htmx=True)

    assert response.status_code == 200
    assert 'data-cleanup="done"' in response.text
    assert 'data-removed="1"' in response.text
    assert f'data-bytes="{len(payload) + len(PREVIEW)}"' in response.text
    assert not (media_root / "results" / "slot-001" / expired.id).exists()
    for job, _ in [*mixed_results["live"], (other_slot, b"")]:
        assert (media_root / job.result_path).is_dir()
    db_session.expire_all()
    assert db_session.get(Job, expired.id).cleaned_at is not None
    assert db_session.get(Job, other_slot.id).cleaned_at is None


def test_page_cleanup_without_the_csrf_token_is_refused(admin_http, mixed_results, media_root):
    expired = mixed_results["hidden"][0][0]

    response = admin_http.request("POST", "/admin/slots/slot-001/cleanup", htmx=True, csrf=False)

    assert response.status_code == 400
    assert (media_root / "results" / "slot-001" / expired.id).is_dir()


def test_api_cleanup_answers_the_summary(api_http, live_server, mixed_results, media_root):
    expired, payload = mixed_results["hidden"][0]

    response = api_http.post(f"{live_server.url}/api/slots/slot-001/cleanup", timeout=30)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "slot_id": "slot-001",
        "skipped": False,
        "expired_results": 1,
        "bytes_freed": len(payload) + len(PREVIEW),
        "errors": 0,
    }
    assert not (media_root / "results" / "slot-001" / expired.id).exists()
    assert (media_root / "results" / "slot-002").is_dir()


def test_api_cleanup_of_an_unknown_slot_is_404(api_http, live_server):
    response = api_http.post(f"{live_server.url}/api/slots/slot-016/cleanup", timeout=10)

    assert response.status_code == 404
    assert response.json()["failure_reason"] == "slot_not_found"


def test_zip_needs_a_logged_in_admin(live_server):
    response = requests.get(
        f"{live_server.url}/admin/slots/slot-001/results.zip", allow_redirects=False, timeout=10
    )

    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]
