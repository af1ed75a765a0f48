"""The media store resolves stored paths inside its volume only (beyond tests/media)."""

from __future__ import annotations

import pytest

from app.media.storage import MediaStore, UnsafePath


@pytest.fixture
def store(tmp_path):
    media = MediaStore(tmp_path / "media")
    media.ensure_layout()
    (tmp_path / "canary.txt").write_text("outside")
    return media


@pytest.mark.parametrize(
    "relative",
    [
        "/etc/passwd",
        "../canary.txt",
        "results/../../canary.txt",
        "results/slot-001/../../../canary.txt",
        "",
        ".",
        "results/..",
    ],
)
def test_paths_leaving_the_volume_or_naming_its_root_are_refused(store, relative):
    with pytest.raises(UnsafePath):
        store.path(relative)


def test_an_absolute_path_inside_the_volume_is_refused_when_it_points_out(store, tmp_path):
    with pytest.raises(UnsafePath):
        store.path(str(tmp_path / "canary.txt"))


def test_a_symlink_out_of_the_volume_is_refused(store, tmp_path):
    (store.results_dir / "slot-001").mkdir()
    (store.results_dir / "slot-001" / "job").symlink_to(tmp_path)
    (store.templates_dir / "escape.png").symlink_to(tmp_path / "canary.txt")
    with pytest.raises(UnsafePath):
        store.path("results/slot-001/job/canary.txt")
    with pytest.raises(UnsafePath):
        store.path("templates/escape.png")


def test_a_path_with_a_nul_byte_is_refused(store):
    with pytest.raises(UnsafePath):
        store.path("results/slot-001\x00/../../canary.txt")


def test_a_path_inside_the_volume_resolves_under_its_root(store):
    assert store.path("results/slot-001/job/payload.png") == (
        store.root / "results" / "slot-001" / "job" / "payload.png"
    )
