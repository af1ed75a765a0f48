"""Hypothesis-built raw booth requests (field names and sizes, encodings, boundaries, truncation,
wrong types, header sizes) against a live server: never a 500 or a dropped answer, never a job
left pending or a file nobody accounts for. ``scripts/fuzz_ingest.py`` runs thousands more."""

from __future__ import annotations

import requests
from hypothesis import HealthCheck, Phase, given, settings

from tests.support.multipart_fuzz import (
    SLOT_ID,
    FuzzCase,
    fuzz_cases,
    leftovers,
    problems_with,
    send,
)
from tests.support.stored import use_provider

EXAMPLES = 300


def test_no_multipart_upload_gets_a_500_or_leaves_anything_behind(
    live_server, db_session, media_root
):
    use_provider(db_session, "local", {"style": "sepia"}, slot_id=SLOT_ID)
    statuses: dict[int | None, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # shrinking over the network takes minutes
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(fuzz_cases())
    def upload(case: FuzzCase) -> None:
        answer = send(live_server.url, case)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        assert problems_with(case, answer) == [], answer.body[:500]
        assert leftovers(db_session, media_root, check_results=False) == []

    upload()
    assert leftovers(db_session, media_root) == []
    assert requests.get(f"{live_server.url}/healthz", timeout=10).status_code == 200
    assert statuses.get(200, 0) > 0 and sum(statuses.values()) >= EXAMPLES
    print(f"fuzz statuses: {dict(sorted(statuses.items(), key=str))}")
