"""Guest galleries over real HTTP: one slot's gallery and the shared /pubgallery."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Config
from app.db import utcnow
from app.ingest.ids import new_job_id
from app.ingest.models import Job
from app.public.gallery import CACHE_EXTENSION, PageCache
from app.ratelimit import RateCounter
from app.settings.service import save_settings
from app.slots.models import Slot
from tests.support.ingest import ingest_url, post_photo
from tests.support.servers import LiveServer

HOUR = timedelta(hours=1)


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def clock(app: Flask) -> FakeClock:
    """The /pubgallery page cache's clock, moved by hand."""
    fake = FakeClock()
    cache: PageCache = app.extensions[CACHE_EXTENSION]
    cache.clock = fake
    return fake


def add_job(
    session: Session,
    *,
    slot_id: str = "slot-001",
    status: str = "done",
    source: str = "ingest",
    created_ago: timedelta = timedelta(minutes=5),
    expires_in: timedelta = 2 * HOUR,
    cleaned: bool = False,
) -> str:
    """A finished job row as ingest leaves it (galleries list rows; they never open the files)."""
    now = utcnow()
    created = now - created_ago
    job = Job(
        id=new_job_id(),
        slot_id=slot_id,
        source=source,
        status=status,
        provider="local",
        client_meta={},
        created_at=created,
        started_at=created,
        deadline_at=created + timedelta(seconds=48),
        finished_at=created + timedelta(seconds=1),
        failure_reason=None if status == "done" else "provider_error",
    )
    if status == "done":
        job.result_path = f"results/{slot_id}/{job.id}"
        job.result_mime = "image/jpeg"
        job.result_expires_at = now + expires_in
        job.cleaned_at = now if cleaned else None
    session.add(job)
    session.commit()
    return job.id


def set_slot(session: Session, slot_id: str, **values: object) -> None:
    session.execute(update(Slot).where(Slot.slot_id == slot_id).values(**values))
    session.commit()


def share_until(session: Session, config: Config, delta: timedelta) -> None:
    save_settings(session, config, {"gallery_shared_until": utcnow() + delta}, "tests")


def shown_ids(response: requests.Response) -> list[str]:
    return re.findall(r'data-job-id="([^"]+)"', response.text)


def slot_url(live_server: LiveServer, slot_id: str = "slot-001") -> str:
    return f"{live_server.url}/public/slots/{slot_id}"


def pubgallery_url(live_server: LiveServer) -> str:
    return f"{live_server.url}/pubgallery"


@pytest.fixture
def public_slot(db_session: Session) -> str:
    set_slot(db_session, "slot-001", public_gallery=True, display_name="Neon portrait")
    return "slot-001"


@pytest.fixture
def shared(db_session: Session, config: Config) -> None:
    share_until(db_session, config, timedelta(minutes=15))


# --- one slot's gallery ------------------------------------------------------------------------


def test_slot_gallery_is_a_404_page_while_the_slot_is_not_public(live_server, http, db_session):
    add_job(db_session)
    response = http.get(slot_url(live_server), params={"lang": "en"})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Gallery not found" in response.text
    assert shown_ids(response) == []


def test_slot_gallery_of_an_unknown_or_malformed_slot_is_a_404_page(live_server, http):
    for slot_id in ["slot-016", "slot-000", "nope", "x" * 300, "slot-001%00", "%2e%2e"]:
        response = http.get(slot_url(live_server, slot_id))
        assert response.status_code == 404, slot_id
        assert response.headers["Content-Type"].startswith("text/html"), slot_id


def test_slot_gallery_shows_the_slots_live_results_newest_first(
    live_server, http, db_session, public_slot
):
    older = add_job(db_session, created_ago=timedelta(minutes=9))
    newer = add_job(db_session, created_ago=timedelta(minutes=1))
    response = http.get(slot_url(live_server))
    assert response.status_code == 200
    assert shown_ids(response) == [newer, older]
    assert "Neon portrait" in response.text


def test_slot_gallery_leaves_out_expired_cleaned_failed_and_other_slots_results(
    live_server, http, db_session, public_slot
):
    live = add_job(db_session)
    add_job(db_session, expires_in=-timedelta(seconds=1))
    add_job(db_session, cleaned=True)
    add_job(db_session, status="failed")
    add_job(db_session, status="timeout")
    add_job(db_session, slot_id="slot-002")
    response = http.get(slot_url(live_server))
    assert shown_ids(response) == [live]


def test_galleries_leave_out_telegram_and_test_run_results(
    live_server, http, db_session, config, public_slot
):
    booth = add_job(db_session)
    for source in ("telegram", "ui_test", "api"):
        add_job(db_session, source=source)
    share_until(db_session, config, timedelta(minutes=15))
    assert shown_ids(http.get(slot_url(live_server))) == [booth]
    assert shown_ids(http.get(pubgallery_url(live_server))) == [booth]


def test_slot_gallery_shows_at_most_the_last_ten_results(
    live_server, http, db_session, public_slot
):
    ids = [add_job(db_session, created_ago=timedelta(minutes=n)) for n in range(1, 13)]
    response = http.get(slot_url(live_server))
    assert shown_ids(response) == ids[:10]


def test_slot_gallery_without_results_says_so(live_server, http, public_slot):
    response = http.get(slot_url(live_server), params={"lang": "en"})
    assert response.status_code == 200
    assert "data-gallery-empty" in response.text
    assert "No photos here yet" in response.text


def test_slot_gallery_thumbnails_are_previews_linking_to_the_result_pages(
    live_server, http, jpeg, public_slot
):
    response = post_photo(http, ingest_url(live_server.url), jpeg)
    job_id = response.headers["X-Job-Id"]
    page = http.get(slot_url(live_server))
    assert f'href="/r/{job_id}"' in page.text
    assert f'src="/public/results/{job_id}/preview"' in page.text
    assert http.get(f"{live_server.url}/r/{job_id}").status_code == 200
    preview = http.get(f"{live_server.url}/public/results/{job_id}/preview")
    assert preview.headers["Content-Type"] == "image/webp"


def test_slot_gallery_is_not_indexed_by_search_engines(live_server, http, public_slot):
    response = http.get(slot_url(live_server))
    assert '<meta name="robots" content="noindex' in response.text
    assert "noindex" in response.headers["X-Robots-Tag"]


# --- the shared gallery ------------------------------------------------------------------------


def test_pubgallery_is_a_friendly_404_page_until_an_admin_shares_it(live_server, http, db_session):
    add_job(db_session)
    response = http.get(pubgallery_url(live_server), params={"lang": "en"})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "The gallery is closed" in response.text
    assert shown_ids(response) == []
    assert "no-store" in response.headers["Cache-Control"]


def test_pubgallery_shows_all_slots_live_results_labelled_by_slot_while_shared(
    live_server, http, db_session, shared
):
    set_slot(db_session, "slot-002", display_name="Pencil sketch")
    first = add_job(db_session, created_ago=timedelta(minutes=3))
    second = add_job(db_session, slot_id="slot-002", created_ago=timedelta(minutes=2))
    add_job(db_session, slot_id="slot-003", expires_in=-timedelta(seconds=1))
    response = http.get(pubgallery_url(live_server))
    assert response.status_code == 200
    assert shown_ids(response) == [second, first]
    assert 'class="gallery-label">Pencil sketch<' in response.text


def test_pubgallery_shows_at_most_a_hundred_results(live_server, http, db_session, shared):
    for n in range(101):
        add_job(db_session, slot_id=f"slot-{n % 15 + 1:03d}", created_ago=timedelta(seconds=n))
    assert len(shown_ids(http.get(pubgallery_url(live_server)))) == 100


def test_pubgallery_closes_when_the_share_time_has_passed(
    live_server, http, db_session, config, shared
):
    add_job(db_session)
    assert http.get(pubgallery_url(live_server)).status_code == 200
    share_until(db_session, config, -timedelta(seconds=1))
    response = http.get(pubgallery_url(live_server))
    assert response.status_code == 404
    assert shown_ids(response) == []


def test_pubgallery_may_be_cached_for_thirty_seconds(live_server, http, shared):
    response = http.get(pubgallery_url(live_server))
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert "Accept-Language" in response.headers["Vary"]


def test_pubgallery_sets_no_cookie_even_for_a_logged_in_admin(live_server, admin_http, shared):
    """A shared cache would hand the admin's refreshed session cookie to every visitor."""
    response = admin_http.get("/pubgallery")

    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in response.headers
    assert admin_http.get("/admin/settings").status_code == 200


def test_pubgallery_is_never_cached_past_the_end_of_the_share(
    live_server, http, db_session, config
):
    share_until(db_session, config, timedelta(seconds=10))
    response = http.get(pubgallery_url(live_server))
    max_age = re.search(r"max-age=(\d+)", response.headers["Cache-Control"])
    assert max_age
    assert int(max_age.group(1)) <= 10


def test_pubgallery_serves_its_cached_page_for_thirty_seconds(
    live_server, http, db_session, clock, shared
):
    first = add_job(db_session, created_ago=timedelta(minutes=2))
    assert shown_ids(http.get(pubgallery_url(live_server))) == [first]
    later = add_job(db_session, created_ago=timedelta(minutes=1))
    clock.seconds += 29
    cached = http.get(pubgallery_url(live_server))
    assert shown_ids(cached) == [first]
    assert cached.headers["Cache-Control"] == "public, max-age=1"
    clock.seconds += 1
    assert shown_ids(http.get(pubgallery_url(live_server))) == [later, first]


def test_pubgallery_cache_is_kept_per_language(live_server, http, db_session, clock, shared):
    russian = http.get(pubgallery_url(live_server))
    english = http.get(pubgallery_url(live_server), headers={"Accept-Language": "en"})
    assert 'lang="ru"' in russian.text
    assert 'lang="en"' in english.text


def test_pubgallery_refuses_the_31st_request_in_a_minute_with_retry_after(
    live_server, http, db_session, shared
):
    wait_for_a_minute_with_room_to_spare()
    statuses = [http.get(pubgallery_url(live_server)).status_code for _ in range(30)]
    assert statuses == [200] * 30
    refused = http.get(pubgallery_url(live_server), params={"lang": "en"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many requests" in refused.text
    assert "no-store" in refused.headers["Cache-Control"]
    counter = db_session.scalars(select(RateCounter)).one()
    assert (counter.key, counter.count) == ("pubgallery:127.0.0.1", 31)
    assert counter.window_start.second == 0


def test_pubgallery_rate_limit_counts_requests_to_the_closed_gallery_too(
    live_server, http, db_session
):
    wait_for_a_minute_with_room_to_spare()
    statuses = {http.get(pubgallery_url(live_server)).status_code for _ in range(30)}
    assert statuses == {404}
    assert http.get(pubgallery_url(live_server)).status_code == 429


def wait_for_a_minute_with_room_to_spare(room: float = 3.0) -> None:
    """The limit counts per calendar minute: do not start a burst just before the minute ends."""
    now = utcnow()
    into_minute = now.second + now.microsecond / 1_000_000
    if into_minute > 60 - room:
        time.sleep(60.05 - into_minute)
