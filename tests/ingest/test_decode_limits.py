"""Decoding is bounded: cheap checks and admission come first, then only a photo whose decoding
fits the memory estimate is decoded; images that providers return are held to the same limits."""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from PIL import Image

from app.config import Config
from app.db import utcnow
from app.ingest.models import Job
from app.media.images import ImageRejected, decode_result, prepare_image
from app.settings.service import save_settings
from tests.support.fakes.openai import API_KEY, FakeOpenAI, image_answer, running_fake
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.openai_driver import SETTINGS
from tests.support.stored import files_under, only_job, use_provider


def flat_image(width: int, height: int, fmt: str) -> bytes:
    """A one-colour image: tiny as a PNG whatever its canvas."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    """7000x7000 pixels, under the pixel limit, a few hundred KB: ~374 MiB to decode."""
    data = flat_image(7000, 7000, "PNG")
    assert len(data) < 400 * 1024
    return data


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running_fake() as fake:
        yield fake


@pytest.fixture
def config(make_config: Callable[..., Config], fake: FakeOpenAI) -> Config:
    return make_config(openai_api_key=API_KEY, openai_api_base=fake.base_url)


def test_small_png_with_a_huge_canvas_is_413_before_admission(
    live_server, http, db_session, media_root, huge_png, config
):
    assert config.max_image_pixels >= 7000 * 7000  # under the pixel limit, over the memory one
    response = post_photo(http, ingest_url(live_server.url), huge_png)
    body = assert_error(response, 413, "payload_too_large")
    assert "7000x7000" in body["message"]
    assert "pixels" in body["message"]
    job = only_job(db_session)
    assert (job.id, job.status, job.failure_reason) == (
        body["job_id"],
        "failed",
        "payload_too_large",
    )
    assert job.started_at is None  # never admitted: it held no concurrency place
    assert files_under(media_root / "results") == []


def test_photo_is_admitted_before_it_is_decoded(live_server, http, db_session, config):
    save_settings(db_session, config, {"slot_concurrency": 1}, "tests")
    db_session.add(
        Job(
            id="r" * 22,
            slot_id="slot-001",
            source="ingest",
            status="pending",
            provider="local",
            deadline_at=utcnow() + timedelta(seconds=30),
        )
    )
    db_session.commit()
    photo = make_image_bytes(800, 600, noise=True)
    truncated = photo[: len(photo) // 2]  # its header reads fine; decoding would fail
    response = post_photo(http, ingest_url(live_server.url), truncated)
    assert_error(response, 429, "slot_busy")


def test_large_jpeg_is_estimated_at_its_draft_size_and_processed(live_server, http, db_session):
    photo = flat_image(7000, 7000, "JPEG")
    response = post_photo(http, ingest_url(live_server.url), photo)
    assert response.status_code == 200, response.text
    assert only_job(db_session).status == "done"


def test_provider_image_over_the_decode_limit_is_502_provider_error(
    live_server, http, jpeg, db_session, fake, media_root, huge_png
):
    use_provider(db_session, "openai", SETTINGS)
    fake.then(image_answer(huge_png))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 502, "provider_error")
    assert "pixels" in body["message"]
    assert only_job(db_session).failure_reason == "provider_error"
    assert files_under(media_root / "results") == []


def test_provider_image_over_the_pixel_limit_is_refused():
    with pytest.raises(ImageRejected) as refused:
        decode_result(flat_image(1200, 1000, "PNG"), max_pixels=1_000_000)
    assert refused.value.failure_reason == "provider_error"
    assert "1000000 pixels" in refused.value.message


class FilterWatchingFile(io.BytesIO):
    """Records, on every read by the decoder, whether the process-wide warning filters are the
    ones the test started with: ``catch_warnings`` swaps them, which races between threads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.filters_at_start = warnings.filters
        self.swapped = False

    def read(self, size: int | None = -1) -> bytes:
        self.swapped |= warnings.filters is not self.filters_at_start
        return super().read(size)


def test_decoding_never_touches_the_process_wide_warning_filters():
    photo = FilterWatchingFile(make_image_bytes(640, 480))
    prepare_image(photo, "image/jpeg", 50_000_000, 2048)
    assert not photo.swapped


def test_decoding_in_many_threads_leaves_the_warning_filters_as_they_were():
    before = list(warnings.filters)
    data = make_image_bytes(320, 240)
    errors: list[BaseException] = []

    def decode_many() -> None:
        try:
            for _ in range(20):
                prepare_image(io.BytesIO(data), "image/jpeg", 50_000_000, 2048)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=decode_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(warnings.filters) == before
