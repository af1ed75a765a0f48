from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, replace

import pytest

from app.media.storage import MediaStore, ResultKind, ResultParts, StoredFile, UnsafePath

PARTS = ResultParts(
    payload=b"payload bytes",
    payload_mime="image/png",
    preview=b"preview",
    source=io.BytesIO(b"the upload"),
    source_mime="image/jpeg",
)


@dataclass
class JobRow:
    """The three columns of a job row the store reads a result's files from."""

    result_path: str | None
    result_mime: str | None = "image/png"
    input_mime: str | None = "image/jpeg"


@pytest.mark.parametrize("job_id", ["-AbCdEfGhIjKlMnOpQrStU", "_AbCdEfGhIjKlMnOpQrStU"])
def test_results_of_job_ids_starting_with_a_symbol_are_stored(tmp_path, job_id):
    store = MediaStore(tmp_path)
    relative = store.write_result("slot-001", job_id, PARTS).path
    assert (tmp_path / relative / "payload.png").read_bytes() == b"payload bytes"


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "", "x" * 65])
def test_unsafe_path_segments_are_refused(tmp_path, name):
    with pytest.raises(UnsafePath):
        MediaStore(tmp_path).write_result("slot-001", name, PARTS)
    assert list((tmp_path / "temp").glob("*")) == []


def test_paths_outside_the_volume_are_refused(tmp_path):
    with pytest.raises(UnsafePath):
        MediaStore(tmp_path / "media").path("../secret")


def test_removing_a_symlinked_result_never_deletes_its_target(tmp_path):
    store = MediaStore(tmp_path)
    store.ensure_layout()
    template = tmp_path / "templates" / "slot-001"
    template.mkdir()
    (template / "style.png").write_bytes(b"keep")
    (tmp_path / "results" / "slot-001").mkdir()
    (tmp_path / "results" / "slot-001" / "job").symlink_to(template)
    store.remove("results/slot-001/job")
    assert (template / "style.png").read_bytes() == b"keep"
    assert not (tmp_path / "results" / "slot-001" / "job").exists()


def test_a_written_result_names_each_part_by_kind_and_type(tmp_path):
    stored = MediaStore(tmp_path).write_result("slot-001", "job-1", PARTS)
    folder = tmp_path / "results" / "slot-001" / "job-1"
    assert stored.path == "results/slot-001/job-1"
    assert sorted(p.name for p in folder.iterdir()) == ["payload.png", "preview.webp", "source.jpg"]
    assert (folder / "source.jpg").read_bytes() == b"the upload"
    assert list((tmp_path / "temp").iterdir()) == []


def test_a_written_result_returns_its_media_rows(tmp_path):
    stored = MediaStore(tmp_path).write_result("slot-001", "job-1", PARTS)
    assert stored.files == (
        StoredFile(ResultKind.PAYLOAD, "results/slot-001/job-1/payload.png", "image/png", 13),
        StoredFile(ResultKind.PREVIEW, "results/slot-001/job-1/preview.webp", "image/webp", 7),
        StoredFile(ResultKind.SOURCE, "results/slot-001/job-1/source.jpg", "image/jpeg", 10),
    )
    assert stored.file(ResultKind.PAYLOAD).size_bytes == len(PARTS.payload)


def test_a_spooled_upload_becomes_the_source_by_a_link_not_a_copy(tmp_path):
    store = MediaStore(tmp_path)
    with store.spool_file() as spool:
        spool.write(b"the upload")
        parts = replace(PARTS, source=spool)
        stored = store.write_result("slot-001", "job-1", parts)
        source = tmp_path / stored.file(ResultKind.SOURCE).path
        assert source.stat().st_ino == os.fstat(spool.fileno()).st_ino
    assert source.read_bytes() == b"the upload"  # still there once the spool is closed
    assert stored.file(ResultKind.SOURCE).size_bytes == 10
    assert list((tmp_path / "temp").iterdir()) == []


def test_a_named_temp_file_is_copied_as_the_source(tmp_path):
    store = MediaStore(tmp_path)
    with tempfile.NamedTemporaryFile(dir=tmp_path) as named:
        named.write(b"the upload")
        stored = store.write_result("slot-001", "job-1", replace(PARTS, source=named))
        source = tmp_path / stored.file(ResultKind.SOURCE).path
        assert source.stat().st_ino != os.fstat(named.fileno()).st_ino
    assert source.read_bytes() == b"the upload"


def test_a_jobs_result_files_are_found_from_its_row(tmp_path):
    store = MediaStore(tmp_path)
    stored = store.write_result("slot-001", "job-1", PARTS)
    job = JobRow(stored.path)
    for kind in ResultKind:
        assert store.result_file(job, kind) == tmp_path / stored.file(kind).path
    assert store.result_file(job, ResultKind.PAYLOAD).read_bytes() == PARTS.payload


@pytest.mark.parametrize(
    "job",
    [JobRow(None), JobRow("results/slot-001/job-1", result_mime="image/gif"), JobRow("../x")],
)
def test_a_job_without_a_sound_result_has_no_result_file(tmp_path, job):
    with pytest.raises(UnsafePath):
        MediaStore(tmp_path / "media").result_file(job, ResultKind.PAYLOAD)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("results/slot-001/job-1", True),
        ("results/slot-001", False),
        ("templates/slot-001/job-1", False),
        ("results/slot-001/../job-1", False),
        ("results/slot-001/job-1/payload.jpg", False),
    ],
)
def test_only_results_slot_job_is_a_result_folder(relative, expected):
    assert MediaStore.is_result_relpath(relative) is expected


def test_a_template_and_its_preview_are_named_after_the_slot_and_media_id(tmp_path):
    store = MediaStore(tmp_path)
    relative = store.template_relpath("slot-001", "abc123", "image/png")
    preview = store.template_preview_relpath("slot-001", "abc123")
    assert (relative, preview) == (
        "templates/slot-001/abc123.png",
        "templates/slot-001/abc123.preview.webp",
    )
    store.write_file(relative, io.BytesIO(b"style"))
    assert (tmp_path / relative).read_bytes() == b"style"
    assert list((tmp_path / "temp").iterdir()) == []


@pytest.mark.parametrize("media_id", ["..", ".hidden", "a/b", ""])
def test_unsafe_template_ids_are_refused(media_id):
    with pytest.raises(UnsafePath):
        MediaStore.template_preview_relpath("slot-001", media_id)
