from __future__ import annotations

import pytest

from app.media.storage import MediaStore, UnsafePath


@pytest.mark.parametrize("job_id", ["-AbCdEfGhIjKlMnOpQrStU", "_AbCdEfGhIjKlMnOpQrStU"])
def test_results_of_job_ids_starting_with_a_symbol_are_stored(tmp_path, job_id):
    store = MediaStore(tmp_path)
    relative = store.write_result("slot-001", job_id, {"payload.jpg": b"x"})
    assert (tmp_path / relative / "payload.jpg").read_bytes() == b"x"


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "", "x" * 65])
def test_unsafe_path_segments_are_refused(tmp_path, name):
    with pytest.raises(UnsafePath):
        MediaStore(tmp_path).write_result("slot-001", name, {"payload.jpg": b"x"})
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
