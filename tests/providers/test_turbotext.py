"""The Turbotext driver against a loopback Turbotext that fetches our public links over HTTP."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session

from app.config import Config
from app.deadline import Deadline
from app.media.images import PreparedImage, decode_image
from app.media.provider_links import ProviderMediaLinks
from app.media.storage import MediaStore
from app.providers.base import (
    KeyCheck,
    ProviderNoImage,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderRequest,
    ProviderTimeout,
    ProviderUnavailable,
)
from app.providers.turbotext import TurbotextProvider
from app.settings.service import save_settings
from app.slots.models import TemplateMedia
from tests.support.fakes.turbotext import FakeTurbotext, result_png
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.servers import free_port
from tests.support.stored import files_under, only_job, use_provider

JOB_ID = "job-turbotext-0001"
GENERATE = {"method": "generate_image2image", "prompt": "в костюме супермена"}
MIX = {"method": "mix_images", "prompt": "в стиле диснея"}
DEEPFAKE = {"method": "deepfake_photo", "face_restore": True}


@pytest.fixture
def fake() -> Iterator[FakeTurbotext]:
    with FakeTurbotext() as server:
        yield server


@pytest.fixture
def api_key(fake: FakeTurbotext) -> str | None:
    return fake.api_key


@pytest.fixture
def config(make_config: Callable[..., Config], fake: FakeTurbotext, api_key: str | None) -> Config:
    return make_config(turbotext_api_key=api_key, turbotext_api_base=fake.url)


@pytest.fixture
def links(live_server: Any, config: Config) -> ProviderMediaLinks:
    """Links the live app serves: same media root and secret, its own address."""
    return ProviderMediaLinks(MediaStore(config.media_root), "test-secret-key", live_server.url)


@pytest.fixture
def offline_links(tmp_path: Path) -> ProviderMediaLinks:
    """Links nobody serves, for calls that publish nothing Turbotext fetches."""
    return ProviderMediaLinks(MediaStore(tmp_path), "unused-secret", "http://127.0.0.1:9")


@pytest.fixture
def provider(
    fake: FakeTurbotext, links: ProviderMediaLinks, http: requests.Session
) -> TurbotextProvider:
    return TurbotextProvider(fake.api_key, fake.url, http, links, poll_interval=0.05)


@pytest.fixture
def offline_provider(
    fake: FakeTurbotext, offline_links: ProviderMediaLinks, http: requests.Session
) -> TurbotextProvider:
    return TurbotextProvider(fake.api_key, fake.url, http, offline_links)


def prepared(image: bytes | None = None) -> PreparedImage:
    data = image or make_image_bytes(320, 240, noise=True)
    return decode_image(io.BytesIO(data), "image/jpeg", 10**8, 2048)


def request_for(
    settings: dict[str, Any],
    templates: int = 0,
    seconds: float = 3,
    photo: PreparedImage | None = None,
) -> ProviderRequest:
    return ProviderRequest(
        job_id=JOB_ID,
        photo=photo or prepared(),
        templates=[prepared(make_image_bytes(200, 200, color=(9, 9, 9))) for _ in range(templates)],
        settings=settings,
        deadline=Deadline.after(seconds),
        output_mime="image/jpeg",
    )


def twelve_megapixel_photo() -> bytes:
    width, height = 4000, 3000
    gradient = Image.linear_gradient("L").resize((width, height))
    texture = Image.effect_noise((width, height), 20)
    mirrored = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out = io.BytesIO()
    Image.merge("RGB", [gradient, texture, mirrored]).save(out, "JPEG", quality=92)
    return out.getvalue()


# The three methods


def test_generate_image2image_sends_the_photo_link_and_prompt_and_returns_the_result(
    provider, fake
):
    request = request_for({**GENERATE, "strength": 50, "seed": 42, "scale": 7.5})
    result = provider.process(request)
    assert result.data == fake.behaviour.result_image
    form = fake.calls_of("create_queue", "generate_image2image")[0].form
    assert form["content"] == "в костюме супермена"
    assert (form["strength"], form["seed"], form["scale"]) == ("50", "42", "7.5")
    assert fake.fetched_field("url").body == request.photo.encoded("image/jpeg", 90)


def test_mix_images_sends_the_photo_as_target_and_the_template_as_style_source(provider, fake):
    request = request_for(MIX, templates=1)
    provider.process(request)
    form = fake.calls_of("create_queue", "mix_images")[0].form
    assert form["content"] == "в стиле диснея"
    assert fake.fetched_field("url_image_target").body == request.photo.encoded()
    assert fake.fetched_field("url").body == request.templates[0].encoded()


def test_deepfake_photo_sends_the_photo_as_url_and_the_face_as_target(provider, fake):
    request = request_for(DEEPFAKE, templates=1)
    provider.process(request)
    assert fake.calls_of("create_queue", "deepfake_photo")[0].form["face_restore"] == "True"
    assert fake.fetched_field("url").body == request.photo.encoded()
    assert fake.fetched_field("url_image_target").body == request.templates[0].encoded()


@pytest.mark.parametrize("settings", [MIX, DEEPFAKE], ids=["mix_images", "deepfake_photo"])
def test_a_method_needing_a_template_is_rejected_without_one_before_calling_turbotext(
    offline_provider, fake, settings
):
    with pytest.raises(ProviderRejected, match="template"):
        offline_provider.process(request_for(settings))
    assert fake.calls == []


def test_requests_are_form_encoded_with_the_bearer_key(provider, fake):
    provider.process(request_for(GENERATE))
    assert {call.authorization for call in fake.calls} == {f"Bearer {fake.api_key}"}
    assert [call.form["do"] for call in fake.calls] == ["create_queue", "get_result", "get_result"]


def test_a_wrong_key_is_a_provider_error_naming_the_key(fake, offline_links, http):
    provider = TurbotextProvider("wrong", fake.url, http, offline_links)
    with pytest.raises(ProviderRejected, match="API key"):
        provider.process(request_for(GENERATE))
    assert fake.queues == {}


def test_a_twelve_megapixel_photo_reaches_turbotext_as_a_jpeg_under_1_mb(provider, fake):
    photo = prepared(twelve_megapixel_photo())
    provider.process(request_for(GENERATE, photo=photo))
    fetched = fake.fetched_field("url")
    assert fetched.mime == "image/jpeg"
    assert len(fetched.body) <= 1024 * 1024
    assert max(Image.open(io.BytesIO(fetched.body)).size) <= 2048


# Queue and polling


def test_reconnect_answers_are_polled_until_the_result_arrives(provider, fake):
    fake.behaviour.reconnects = 3
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert fake.polls == 4


def test_create_queue_is_sent_once_however_slow_the_polling(provider, fake):
    fake.behaviour.reconnects = 4
    fake.behaviour.poll_delay = 0.3
    provider.process(request_for(GENERATE, seconds=4))
    assert fake.create_calls == 1
    assert fake.polls == 5


def test_a_queueid_sent_as_a_string_is_polled_as_is(provider, fake):
    fake.behaviour.queueid_as_string = True
    provider.process(request_for(GENERATE))
    assert {call.form["queueid"] for call in fake.calls_of("get_result")} == set(fake.queues)


def test_results_that_never_come_time_out_before_the_deadline(fake, links, http):
    fake.behaviour.never_finish = True
    provider = TurbotextProvider(fake.api_key, fake.url, http, links)
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        provider.process(request_for(GENERATE, seconds=1.5))
    assert 1.0 <= time.monotonic() - started <= 1.5
    assert fake.polls == 1, "the 2 s poll interval shrinks to fit the time left"
    assert fake.create_calls == 1


def test_a_get_result_hanging_past_the_deadline_is_a_timeout_at_the_deadline(provider, fake):
    fake.behaviour.poll_delay = 5
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        provider.process(request_for(GENERATE, seconds=1.5))
    assert 1.3 <= time.monotonic() - started <= 1.8


def test_polling_errors_are_retried_without_queueing_again(provider, fake):
    fake.behaviour.poll_statuses = [502, 503]
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert fake.create_calls == 1


# create_queue failures


def test_a_5xx_on_create_queue_is_retried_as_no_queue_exists_yet(provider, fake):
    fake.behaviour.create_statuses = [503]
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert fake.create_calls == 2
    assert len(fake.queues) == 1


def test_a_busy_error_body_on_create_queue_is_retried(provider, fake):
    fake.behaviour.create_errors = ["Server busy, try again later"]
    provider.process(request_for(GENERATE))
    assert fake.create_calls == 2


def test_create_queue_failing_until_the_deadline_is_provider_unavailable(provider, fake):
    fake.behaviour.create_statuses = [503] * 50
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="503"):
        provider.process(request_for(GENERATE, seconds=2))
    assert time.monotonic() - started < 2


def test_an_unreachable_turbotext_is_provider_unavailable(offline_links, http):
    provider = TurbotextProvider("key", f"http://127.0.0.1:{free_port()}", http, offline_links)
    with pytest.raises(ProviderUnavailable, match="reach"):
        provider.process(request_for(GENERATE, seconds=2))


@pytest.mark.parametrize("code", ["params_error", "LIMIT"])
def test_an_error_answer_to_create_queue_is_a_provider_error_with_its_code(provider, fake, code):
    fake.behaviour.create_errors = [code]
    with pytest.raises(ProviderRejected, match=code):
        provider.process(request_for(GENERATE))
    assert fake.create_calls == 1


# Results


def test_face_not_detected_is_a_provider_error_naming_the_code(provider, fake):
    fake.behaviour.result_error = "face_not_detected"
    with pytest.raises(ProviderRejected, match="face_not_detected") as raised:
        provider.process(request_for(DEEPFAKE, templates=1))
    assert "no face" in raised.value.message
    assert fake.create_calls == 1


def test_the_result_link_under_data_is_used_without_a_top_level_one(provider, fake):
    fake.behaviour.result_shape = "data"
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert len(fake.downloads) == 1


def test_a_relative_data_image_path_is_resolved_against_the_base_url(provider, fake):
    fake.behaviour.result_shape = "relative_image"
    fake.behaviour.result_image = result_png((40, 30))
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image


def test_a_result_without_any_image_link_is_provider_no_image(provider, fake):
    fake.behaviour.result_shape = "absolute_image"
    fake.behaviour.result_url = " "
    with pytest.raises(ProviderNoImage):
        provider.process(request_for(GENERATE))


def test_the_download_carries_the_bearer_key_to_turbotext(provider, fake):
    provider.process(request_for(GENERATE))
    assert fake.downloads[0]["Authorization"] == f"Bearer {fake.api_key}"


def test_a_result_hosted_elsewhere_is_downloaded_without_the_key(
    provider, fake, httpserver: HTTPServer
):
    httpserver.expect_request("/cdn/result.png").respond_with_data(
        result_png(), content_type="image/png"
    )
    fake.behaviour.result_url = httpserver.url_for("/cdn/result.png")
    assert provider.process(request_for(GENERATE)).data == result_png()
    request, _ = httpserver.log[0]
    assert "Authorization" not in request.headers


def test_a_failing_download_is_retried_within_the_deadline(provider, fake):
    fake.behaviour.download_statuses = [503]
    assert provider.process(request_for(GENERATE)).data == fake.behaviour.result_image
    assert len(fake.downloads) == 2


def test_a_missing_result_file_is_provider_no_image(provider, fake):
    fake.behaviour.download_statuses = [404]
    with pytest.raises(ProviderNoImage, match="404"):
        provider.process(request_for(GENERATE))


def test_a_result_link_serving_no_image_is_provider_no_image(provider, fake):
    fake.behaviour.result_image = b"<html>not found</html>"
    with pytest.raises(ProviderNoImage, match="not serve an image"):
        provider.process(request_for(GENERATE))


# Links and configuration


def test_the_link_turbotext_fetched_answers_410_once_the_job_is_discarded(provider, fake, links):
    provider.process(request_for(GENERATE))
    link = fake.fetched_field("url").url
    links.discard(JOB_ID)
    response = requests.get(link, timeout=5)
    assert response.status_code == 410
    assert response.json()["failure_reason"] == "link_expired"


def test_the_link_is_valid_until_the_deadline_and_410_after(provider, fake):
    provider.process(request_for(GENERATE, seconds=1.5))
    link = fake.fetched_field("url").url
    assert requests.get(link, timeout=5).status_code == 200
    time.sleep(1.6)
    assert requests.get(link, timeout=5).status_code == 410


def test_without_a_key_it_is_not_configured_and_refuses_to_process(offline_links, http, fake):
    provider = TurbotextProvider(None, fake.url, http, offline_links)
    assert not provider.is_configured()
    with pytest.raises(ProviderNotConfigured):
        provider.process(request_for(GENERATE))
    assert fake.calls == []


def test_the_model_recorded_is_the_method(offline_provider):
    assert offline_provider.model_of(MIX) == "mix_images"


def test_key_check_with_a_good_key_is_ok_and_processes_nothing(offline_provider, fake):
    assert offline_provider.check_key(Deadline.after(3)) == KeyCheck.OK
    assert [(call.method, call.form) for call in fake.calls] == [
        ("available_api", {"do": "create_queue"})
    ]


def test_key_check_with_a_refused_key_is_invalid(fake, offline_links, http):
    provider = TurbotextProvider("wrong", fake.url, http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.INVALID


def test_key_check_with_an_auth_error_body_is_invalid(fake, offline_links, http):
    fake.behaviour.auth_error_in_body = True
    provider = TurbotextProvider("wrong", fake.url, http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.INVALID


def test_key_check_of_a_failing_turbotext_is_unreachable(offline_provider, fake):
    fake.behaviour.create_statuses = [503]
    assert offline_provider.check_key(Deadline.after(3)) == KeyCheck.UNREACHABLE
    assert fake.create_calls == 1


def test_key_check_of_an_unreachable_turbotext_is_unreachable(offline_links, http):
    provider = TurbotextProvider("key", f"http://127.0.0.1:{free_port()}", http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.UNREACHABLE


def test_key_check_without_a_key_is_missing(offline_links, http, fake):
    provider = TurbotextProvider(None, fake.url, http, offline_links)
    assert provider.check_key(Deadline.after(3)) == KeyCheck.MISSING


# Through the ingest route


def add_template(db_session: Session, media_root: Path) -> bytes:
    data = make_image_bytes(300, 200, "PNG", color=(10, 200, 10))
    path = media_root / "templates" / "slot-001" / "style.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    db_session.add(
        TemplateMedia(
            media_id="tpl-style",
            slot_id="slot-001",
            kind="style",
            path="templates/slot-001/style.png",
            mime="image/png",
            size_bytes=len(data),
            width=300,
            height=200,
        )
    )
    db_session.commit()
    return data


def test_booth_photo_is_processed_by_turbotext_through_the_route(
    live_server, http, jpeg, db_session, fake, media_root
):
    use_provider(db_session, "turbotext", GENERATE)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (96, 64)
    job = only_job(db_session)
    assert (job.id, job.status, job.model) == (
        response.headers["X-Job-Id"],
        "done",
        GENERATE["method"],
    )
    assert job.provider_ms and job.provider_ms > 0
    fetched = fake.fetched_field("url")
    assert fetched.url.startswith(f"{live_server.url}/public/provider-media/")
    assert Image.open(io.BytesIO(fetched.body)).size == (640, 480)
    assert requests.get(fetched.url, timeout=5).status_code == 410
    assert files_under(media_root / "temp") == []


def test_mix_images_through_the_route_sends_the_slot_template(
    live_server, http, jpeg, db_session, fake, media_root
):
    fake.behaviour.reconnects = 0
    use_provider(db_session, "turbotext", MIX)
    add_template(db_session, media_root)
    assert post_photo(http, ingest_url(live_server.url), jpeg).status_code == 200
    style = Image.open(io.BytesIO(fake.fetched_field("url").body))
    assert (style.format, style.size) == ("JPEG", (300, 200))
    assert files_under(media_root / "temp") == []


def test_face_not_detected_through_the_route_is_502_provider_error(
    live_server, http, jpeg, db_session, fake, media_root
):
    fake.behaviour.reconnects = 0
    fake.behaviour.result_error = "face_not_detected"
    use_provider(db_session, "turbotext", DEEPFAKE)
    add_template(db_session, media_root)
    body = assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_error")
    assert "face_not_detected" in body["message"]
    job = only_job(db_session)
    assert (job.status, job.failure_reason) == ("failed", "provider_error")
    assert files_under(media_root / "temp") == []


def test_results_that_never_come_through_the_route_are_504_at_the_deadline(
    live_server, http, jpeg, db_session, config, fake, media_root
):
    fake.behaviour.never_finish = True
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_provider(db_session, "turbotext", GENERATE)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert fake.create_calls == 1
    assert files_under(media_root) == []


@pytest.mark.parametrize("api_key", [None])
def test_turbotext_without_a_key_through_the_route_is_503_not_configured(
    live_server, http, jpeg, db_session, fake, media_root
):
    use_provider(db_session, "turbotext", GENERATE)
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert_error(response, 503, "provider_not_configured")
    assert fake.calls == []
    assert files_under(media_root / "temp") == []
