"""Fixed-window rate counters against the real PostgreSQL table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine, standalone_session
from app.ratelimit import RateCounter, hit

MINUTE_START = datetime(2099, 1, 2, 3, 4, 0, tzinfo=UTC)


def counters(session: Session) -> list[tuple[str, datetime, int]]:
    rows = session.execute(
        select(RateCounter.key, RateCounter.window_start, RateCounter.count).order_by(
            RateCounter.key, RateCounter.window_start
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_first_hit_is_allowed_and_stored_in_its_minute(db_session):
    decision = hit(db_session, "ip:1", 3, 60, MINUTE_START + timedelta(seconds=12.5))
    assert (decision.allowed, decision.count) == (True, 1)
    assert counters(db_session) == [("ip:1", MINUTE_START, 1)]


def test_hits_up_to_the_limit_are_allowed_and_the_next_is_refused(db_session):
    now = MINUTE_START + timedelta(seconds=5)
    decisions = [hit(db_session, "ip:1", 3, 60, now) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.count for d in decisions] == [1, 2, 3, 4]


def test_retry_after_is_the_time_left_in_the_window_rounded_up(db_session):
    decision = hit(db_session, "ip:1", 0, 60, MINUTE_START + timedelta(seconds=40.2))
    assert not decision.allowed
    assert decision.retry_after == 20


def test_retry_after_is_at_least_one_second(db_session):
    decision = hit(db_session, "ip:1", 0, 60, MINUTE_START + timedelta(seconds=59.9999))
    assert decision.retry_after == 1


def test_a_new_window_starts_counting_from_one(db_session):
    for _ in range(3):
        hit(db_session, "ip:1", 2, 60, MINUTE_START + timedelta(seconds=59))
    decision = hit(db_session, "ip:1", 2, 60, MINUTE_START + timedelta(seconds=60))
    assert (decision.allowed, decision.count) == (True, 1)
    assert counters(db_session) == [
        ("ip:1", MINUTE_START, 3),
        ("ip:1", MINUTE_START + timedelta(minutes=1), 1),
    ]


def test_windows_are_aligned_to_their_length(db_session):
    hit(db_session, "user:7", 5, 3600, MINUTE_START + timedelta(minutes=30))
    assert counters(db_session) == [("user:7", datetime(2099, 1, 2, 3, 0, tzinfo=UTC), 1)]


def test_keys_are_counted_separately(db_session):
    now = MINUTE_START
    hit(db_session, "ip:1", 1, 60, now)
    refused = hit(db_session, "ip:1", 1, 60, now)
    other = hit(db_session, "ip:2", 1, 60, now)
    assert not refused.allowed
    assert (other.allowed, other.count) == (True, 1)


def test_hit_commits_so_other_sessions_see_the_count(db_session, database_url):
    hit(db_session, "ip:1", 5, 60, MINUTE_START)
    with standalone_session(database_url) as other:
        assert other.scalar(select(RateCounter.count)) == 1


def test_concurrent_hits_from_many_connections_are_all_counted_once(database_url):
    engine = make_engine(database_url, pool_size=8)

    def hits(_worker: int) -> list[int]:
        with Session(engine) as session:
            return [hit(session, "ip:1", 1000, 60, MINUTE_START).count for _ in range(10)]

    try:
        with ThreadPoolExecutor(8) as pool:
            seen = [count for batch in pool.map(hits, range(8)) for count in batch]
    finally:
        engine.dispose()
    assert sorted(seen) == list(range(1, 81))
