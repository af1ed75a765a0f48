"""The OpenAI driver against a loopback fake of the Images API, then through the ingest route."""

from __future__ import annotations

import base64
import io
import os
import time
from collections.abc import Callable, Iterator, Mapping

import pytest
import requests
from PIL import Image
from sqlalchemy.orm import Session

from app.config import Config
from app.deadline import Deadline
from app.media.images import PreparedImage, decode_image
from app.providers.base import (
    KeyCheck,
    ProviderBlocked,
    ProviderNoImage,
    ProviderRejected,
    ProviderRequest,
    ProviderTimeout,
    ProviderUnavailable,
)
from app.providers.openai import OpenAIProvider
from app.settings.service import save_settings
from tests.support.fakes.openai import (
    API_KEY,
    FakeOpenAI,
    body_answer,
    edit_body,
    error_answer,
    image_answer,
    insufficient_quota,
    moderation_blocked,
    rate_limited,
    raw_answer,
    running_fake,
    server_error,
    small_image,
)
from tests.support.images import make_image_bytes
from tests.support.ingest import assert_error, ingest_url, post_photo
from tests.support.servers import closed_port_url
from tests.support.stored import files_under, only_job, use_provider

PROMPT = "Put the guest on a beach at sunset; keep the face exactly as it is."
SETTINGS = {"model": "gpt-image-1.5", "prompt": PROMPT, "size": "auto", "quality": "auto"}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running_fake() as fake:
        yield fake


def prepared(width: int = 320, height: int = 240, color=(200, 120, 50)) -> PreparedImage:
    data = make_image_bytes(width, height, color=color)
    return decode_image(io.BytesIO(data), "image/jpeg", 10**8, 2048)


def request_for(
    settings: Mapping[str, object] | None = None,
    *,
    templates: int = 0,
    seconds: float = 3.0,
    output_mime: str = "image/jpeg",
    photo: PreparedImage | None = None,
) -> ProviderRequest:
    return ProviderRequest(
        job_id="j" * 22,
        photo=photo or prepared(),
        templates=[prepared(64, 64, (10 * n, 50, 90)) for n in range(templates)],
        settings=dict(SETTINGS if settings is None else settings),
        deadline=Deadline.after(seconds),
        output_mime=output_mime,
    )


def driver(fake: FakeOpenAI, http: requests.Session, key: str | None = API_KEY) -> OpenAIProvider:
    return OpenAIProvider(key, fake.base_url, http)


def format_of(data: bytes) -> str | None:
    return Image.open(io.BytesIO(data)).format


# --- what is sent -------------------------------------------------------------------------------


def test_photo_then_templates_go_as_image_array_parts_of_the_prepared_jpeg_bytes(fake, http):
    request = request_for(templates=2)
    driver(fake, http).process(request)
    [edit] = fake.edits
    assert [(i.field_name, i.filename, i.content_type) for i in edit.images] == [
        ("image[]", "photo.jpg", "image/jpeg"),
        ("image[]", "template-1.jpg", "image/jpeg"),
        ("image[]", "template-2.jpg", "image/jpeg"),
    ]
    expected = [request.photo.encoded(), *(t.encoded() for t in request.templates)]
    assert [i.data for i in edit.images] == expected


def test_request_carries_the_bearer_key_model_prompt_size_and_quality(fake, http):
    settings = {**SETTINGS, "size": "1536x1024", "quality": "high"}
    driver(fake, http).process(request_for(settings))
    [edit] = fake.edits
    assert edit.headers["Authorization"] == f"Bearer {API_KEY}"
    assert edit.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    fields = edit.fields
    assert (fields["model"], fields["prompt"]) == ("gpt-image-1.5", PROMPT)
    assert (fields["size"], fields["quality"]) == ("1536x1024", "high")


def test_model_is_sent_as_gpt_image_1_5_when_the_settings_name_none(fake, http):
    driver(fake, http).process(request_for({"prompt": PROMPT}))
    assert fake.edits[0].fields["model"] == "gpt-image-1.5"


def test_free_text_model_is_sent_as_given(fake, http):
    driver(fake, http).process(request_for({**SETTINGS, "model": "gpt-image-2"}))
    assert fake.edits[0].fields["model"] == "gpt-image-2"


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1.5"])
def test_input_fidelity_is_sent_to_models_that_support_it(fake, http, model):
    driver(fake, http).process(request_for({**SETTINGS, "model": model, "input_fidelity": "high"}))
    assert fake.edits[0].fields["input_fidelity"] == "high"


def test_input_fidelity_is_left_out_for_the_mini_model(fake, http):
    settings = {**SETTINGS, "model": "gpt-image-1-mini", "input_fidelity": "high"}
    result = driver(fake, http).process(request_for(settings))
    assert result.data
    assert "input_fidelity" not in fake.edits[0].fields


def test_input_fidelity_is_not_sent_when_the_slot_leaves_it_unset(fake, http):
    driver(fake, http).process(request_for())
    assert "input_fidelity" not in fake.edits[0].fields


@pytest.mark.parametrize(
    ("mime", "output_format", "pillow_format"),
    [("image/jpeg", "jpeg", "JPEG"), ("image/png", "png", "PNG"), ("image/webp", "webp", "WEBP")],
)
def test_output_format_follows_the_callers_mime(fake, http, mime, output_format, pillow_format):
    result = driver(fake, http).process(request_for(output_mime=mime))
    assert fake.edits[0].fields["output_format"] == output_format
    assert result.data is not None
    assert format_of(result.data) == pillow_format


def test_response_format_is_never_sent(fake, http):
    driver(fake, http).process(request_for())
    assert "response_format" not in fake.edits[0].fields


def test_base_url_spelled_with_v1_like_the_sdk_is_not_doubled(fake, http):
    provider = OpenAIProvider(API_KEY, f"{fake.base_url}/v1/", http)
    assert provider.process(request_for()).data
    assert len(fake.edits) == 1


def test_twelve_megapixel_photo_is_sent_as_at_most_one_megabyte(fake, http):
    width, height = 4000, 3000
    coarse = [Image.effect_noise((width // 16, height // 16), s) for s in (40, 60, 80)]
    scene = Image.merge("RGB", coarse).resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 8).convert("RGB")
    out = io.BytesIO()
    Image.blend(scene, grain, 0.25).save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > 3_000_000
    photo = decode_image(io.BytesIO(out.getvalue()), "image/jpeg", 10**8, 2048)
    driver(fake, http).process(request_for(photo=photo))
    assert fake.edits[0].body_bytes <= 1_000_000


# --- answers ------------------------------------------------------------------------------------


def test_answer_image_is_returned_as_the_decoded_b64_json_bytes(fake, http):
    image = small_image("png", (20, 10))
    fake.then(image_answer(image))
    assert driver(fake, http).process(request_for()).data == image


def test_thirty_megabyte_base64_answer_is_returned_whole(fake, http):
    side = 2740
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    image = out.getvalue()
    assert len(base64.b64encode(image)) >= 30_000_000
    fake.then(image_answer(image))
    assert driver(fake, http).process(request_for(seconds=10)).data == image


@pytest.mark.parametrize(
    "data",
    [
        [],
        [{}],
        [{"b64_json": ""}],
        [{"b64_json": None}],
        [{"url": "https://example.invalid/image.png", "revised_prompt": "x"}],
        None,
    ],
    ids=["no-items", "empty-item", "empty-b64", "null-b64", "url-only", "no-data"],
)
def test_answer_without_a_b64_json_image_is_provider_no_image(fake, http, data):
    body = edit_body(None)
    if data is None:
        del body["data"]
    else:
        body["data"] = data
    fake.then(body_answer(200, body))
    with pytest.raises(ProviderNoImage, match="b64_json"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_answer_with_invalid_base64_is_provider_no_image(fake, http):
    fake.then(body_answer(200, edit_body("not base64 at all!")))
    with pytest.raises(ProviderNoImage, match="base64"):
        driver(fake, http).process(request_for())


def test_200_answer_that_is_not_json_is_provider_no_image_without_retrying(fake, http):
    fake.then(raw_answer(200, "<html><body>Welcome to nginx!</body></html>"))
    with pytest.raises(ProviderNoImage, match="not a JSON object"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_200_answer_with_a_json_list_is_provider_no_image(fake, http):
    fake.then(body_answer(200, [{"b64_json": "AAAA"}]))
    with pytest.raises(ProviderNoImage):
        driver(fake, http).process(request_for())


# --- errors -------------------------------------------------------------------------------------


def test_moderation_block_is_provider_blocked_with_openais_reason(fake, http):
    fake.then(moderation_blocked())
    with pytest.raises(ProviderBlocked, match=r"safety_violations=\[sexual\]"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_other_400_is_provider_rejected_naming_the_param(fake, http):
    fake.then(
        error_answer(400, "Invalid size for this model.", "invalid_request_error", None, "size")
    )
    with pytest.raises(ProviderRejected, match="'size'") as raised:
        driver(fake, http).process(request_for())
    assert "Invalid size for this model." in raised.value.message
    assert len(fake.edits) == 1


def test_unknown_model_is_provider_rejected_naming_the_model_param(fake, http):
    with pytest.raises(ProviderRejected, match=r"'model'.*gpt-image-9"):
        driver(fake, http).process(request_for({**SETTINGS, "model": "gpt-image-9"}))


def test_refused_key_is_provider_rejected_without_echoing_any_part_of_the_key(fake, http):
    with pytest.raises(ProviderRejected, match="did not accept the API key") as raised:
        driver(fake, http, key="sk-wrong-key-7777").process(request_for())
    assert "7777" not in raised.value.message
    assert fake.edits == []


def test_other_4xx_html_page_is_provider_rejected_with_its_status(fake, http):
    fake.then(raw_answer(403, "<html><h1>403 Forbidden</h1></html>"))
    with pytest.raises(ProviderRejected, match="HTTP 403"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_rate_limit_is_retried_after_the_retry_after_ms_wait(fake, http):
    fake.then(rate_limited({"retry-after-ms": "400"}))
    started = time.monotonic()
    assert driver(fake, http).process(request_for()).data
    assert time.monotonic() - started >= 0.4
    assert len(fake.edits) == 2


def test_retry_after_in_seconds_is_honoured(fake, http):
    fake.then(server_error(503, {"retry-after": "1"}))
    started = time.monotonic()
    assert driver(fake, http).process(request_for()).data
    assert time.monotonic() - started >= 1.0
    assert len(fake.edits) == 2


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_transient_status_is_retried_until_the_image_comes(fake, http, status):
    quick = {"retry-after-ms": "10"}
    fake.then(server_error(status, quick), server_error(status, quick))
    assert driver(fake, http).process(request_for()).data
    assert len(fake.edits) == 3


def test_html_502_page_from_a_proxy_is_retried_as_transient(fake, http):
    fake.then(raw_answer(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"))
    assert driver(fake, http).process(request_for()).data
    assert len(fake.edits) == 2


def test_x_should_retry_false_stops_retrying_at_once(fake, http):
    fake.then(server_error(503, {"x-should-retry": "false"}))
    with pytest.raises(ProviderUnavailable, match="asked not to retry"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_x_should_retry_true_retries_even_a_400(fake, http):
    retry = {"x-should-retry": "true", "retry-after-ms": "10"}
    fake.then(error_answer(400, "Try again.", "invalid_request_error", headers=retry))
    assert driver(fake, http).process(request_for()).data
    assert len(fake.edits) == 2


def test_insufficient_quota_is_not_retried_and_says_the_account_is_out_of_credit(fake, http):
    fake.always(insufficient_quota())
    with pytest.raises(ProviderUnavailable, match="out of credit"):
        driver(fake, http).process(request_for())
    assert len(fake.edits) == 1


def test_server_wait_longer_than_the_time_left_ends_as_provider_unavailable_at_once(fake, http):
    fake.always(rate_limited({"retry-after": "30"}))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="rate_limit_exceeded"):
        driver(fake, http).process(request_for(seconds=3))
    assert time.monotonic() - started < 1.0
    assert len(fake.edits) == 1


def test_persistent_503_ends_as_provider_unavailable_before_the_deadline(fake, http):
    fake.always(server_error(503))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        driver(fake, http).process(request_for(seconds=2))
    assert time.monotonic() - started < 2.0
    assert len(fake.edits) >= 2


def test_provider_that_never_answers_times_out_at_the_deadline(fake, http):
    fake.always(fake.hang())
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        driver(fake, http).process(request_for(seconds=1.5))
    assert time.monotonic() - started == pytest.approx(1.5, abs=0.3)


def test_unreachable_server_ends_as_provider_unavailable(http):
    provider = OpenAIProvider(API_KEY, closed_port_url(), http)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="Could not reach openai"):
        provider.process(request_for(seconds=2))
    assert time.monotonic() - started < 2.0


# --- configuration and key check ----------------------------------------------------------------


def test_is_configured_only_with_a_key(http):
    assert OpenAIProvider(API_KEY, "http://127.0.0.1:1", http).is_configured()
    assert not OpenAIProvider(None, "http://127.0.0.1:1", http).is_configured()
    assert not OpenAIProvider("", "http://127.0.0.1:1", http).is_configured()


def test_model_of_names_the_slot_model_or_the_default(http):
    provider = OpenAIProvider(API_KEY, "http://127.0.0.1:1", http)
    assert provider.model_of({"prompt": PROMPT, "model": "gpt-image-1-mini"}) == "gpt-image-1-mini"
    assert provider.model_of({"prompt": PROMPT}) == "gpt-image-1.5"


def test_check_key_accepts_a_key_the_api_knows_with_one_call(fake, http):
    assert driver(fake, http).check_key(Deadline.after(3)) is KeyCheck.OK
    assert fake.models_calls == 1
    assert fake.edits == []


def test_check_key_reports_a_refused_key_as_invalid(fake, http):
    assert driver(fake, http, key="sk-wrong").check_key(Deadline.after(3)) is KeyCheck.INVALID


def test_check_key_reports_a_dead_server_as_unreachable(http):
    provider = OpenAIProvider(API_KEY, closed_port_url(), http)
    assert provider.check_key(Deadline.after(3)) is KeyCheck.UNREACHABLE


def test_check_key_without_a_key_is_missing_and_calls_nothing(fake, http):
    assert driver(fake, http, key=None).check_key(Deadline.after(3)) is KeyCheck.MISSING
    assert fake.models_calls == 0


# --- the fake itself -----------------------------------------------------------------------------


def test_fake_accepts_a_single_part_named_image_as_the_sdk_sends_one_file(fake, http):
    response = http.post(
        f"{fake.base_url}/v1/images/edits",
        headers={"Authorization": f"Bearer {API_KEY}"},
        data={"model": "gpt-image-1", "prompt": PROMPT},
        files={"image": ("photo.png", small_image("png"), "image/png")},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["data"][0]["b64_json"]
    assert [i.field_name for i in fake.edits[0].images] == ["image"]


@pytest.mark.parametrize("missing", ["model", "prompt"])
def test_fake_refuses_an_edit_without_model_or_prompt_naming_the_param(fake, http, missing):
    data = {"model": "gpt-image-1", "prompt": PROMPT}
    del data[missing]
    response = http.post(
        f"{fake.base_url}/v1/images/edits",
        headers={"Authorization": f"Bearer {API_KEY}"},
        data=data,
        files={"image[]": ("photo.jpg", make_image_bytes(16, 16), "image/jpeg")},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == missing
    assert fake.edits == []


# --- through the ingest route -------------------------------------------------------------------


@pytest.fixture
def openai_key() -> str | None:
    return API_KEY


@pytest.fixture
def config(make_config: Callable[..., Config], fake: FakeOpenAI, openai_key: str | None) -> Config:
    return make_config(openai_api_key=openai_key, openai_api_base=fake.base_url)


def use_openai(db_session: Session, settings: Mapping[str, object] | None = None) -> None:
    use_provider(db_session, "openai", SETTINGS if settings is None else settings)


def test_booth_photo_through_openai_is_200_with_the_image_and_a_recorded_job(
    live_server, http, jpeg, db_session, fake
):
    use_openai(db_session, {**SETTINGS, "model": "gpt-image-1"})
    image = small_image("jpeg", (64, 48))
    fake.then(image_answer(image))
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.content == image
    assert fake.edits[0].fields["output_format"] == "jpeg"
    job = only_job(db_session)
    assert (job.id, job.status, job.provider) == (response.headers["X-Job-Id"], "done", "openai")
    assert job.model == "gpt-image-1"
    assert job.provider_ms is not None


def test_safety_refusal_through_the_route_is_502_provider_blocked(
    live_server, http, jpeg, db_session, fake
):
    use_openai(db_session)
    fake.then(moderation_blocked())
    assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_blocked")
    assert only_job(db_session).failure_reason == "provider_blocked"


def test_out_of_credit_through_the_route_is_503_provider_unavailable(
    live_server, http, jpeg, db_session, fake
):
    use_openai(db_session)
    fake.always(insufficient_quota())
    body = assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 503, "provider_unavailable"
    )
    assert "out of credit" in body["message"]
    assert len(fake.edits) == 1


@pytest.mark.parametrize("openai_key", ["sk-wrong-key-7777"])
def test_refused_key_through_the_route_is_502_provider_error(live_server, http, jpeg, db_session):
    use_openai(db_session)
    body = assert_error(post_photo(http, ingest_url(live_server.url), jpeg), 502, "provider_error")
    assert "API key" in body["message"]
    assert "7777" not in body["message"]


def test_openai_never_answering_is_504_at_the_deadline_with_no_files_left(
    live_server, http, jpeg, db_session, config, media_root, fake
):
    save_settings(db_session, config, {"sync_response_seconds": 10}, "tests")
    use_openai(db_session)
    fake.always(fake.hang())
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    body = assert_error(response, 504, "timeout")
    assert response.elapsed.total_seconds() == pytest.approx(10, abs=1)
    job = only_job(db_session)
    assert (job.id, job.status, job.result_path) == (body["job_id"], "timeout", None)
    assert files_under(media_root) == []


@pytest.mark.parametrize("openai_key", [None])
def test_no_openai_key_is_503_provider_not_configured(live_server, http, jpeg, db_session, fake):
    use_openai(db_session)
    assert_error(
        post_photo(http, ingest_url(live_server.url), jpeg), 503, "provider_not_configured"
    )
    assert fake.edits == []
