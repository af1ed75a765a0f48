"""The media volume full (a 2 MB tmpfs mounted as the media root): a booth upload gets a clear
507 ``storage_full``, leaves no partial file and no pending job, and the next upload works once
space is back. Mounting needs root; elsewhere the tests are skipped with the reason."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import assert_nothing_left
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo

FILLER = "filler.bin"


@pytest.fixture
def media_root(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs instead of the usual folder."""
    if os.geteuid() != 0:
        pytest.skip("the media-full tests mount a tmpfs, which needs root")
    root = tmp_path / "media-tmpfs"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield root
    subprocess.run(["umount", "-l", str(root)], check=False)


def fill(root: Path) -> Path:
    """Take every free byte of the volume with one file."""
    filler = root / FILLER
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    for size in (4096, 1):
        try:
            with filler.open("ab", buffering=0) as out:
                while True:
                    out.write(b"\0" * size)
        except OSError:
            pass
    return filler


@pytest.mark.parametrize(
    "photo",
    [
        pytest.param(make_image_bytes(), id="small-photo-kept-in-memory"),
        pytest.param(make_image_bytes(1200, 900, noise=True), id="large-photo-spooled-to-disk"),
    ],
)
def test_upload_to_a_full_media_volume_is_507_storage_full_leaving_nothing(
    live_server, http, db_session, media_root, photo
):
    filler = fill(media_root)
    response = post_photo(http, ingest_url(live_server.url), photo)
    assert_error(response, 507, "storage_full")
    assert sorted(media_root.rglob("*.*")) == [filler]
    filler.unlink()
    jobs = assert_nothing_left(db_session, media_root)
    assert [(job.status, job.failure_reason) for job in jobs] in ([], [("failed", "storage_full")])


def test_uploads_work_again_once_space_is_freed(live_server, http, db_session, media_root, jpeg):
    filler = fill(media_root)
    assert post_photo(http, ingest_url(live_server.url), jpeg).status_code != 200
    filler.unlink()
    response = post_photo(http, ingest_url(live_server.url), make_image_bytes(color=(7, 8, 9)))
    assert response.status_code == 200, response.text
