"""Hypothesis-built raw booth requests (field names and sizes, encodings, boundaries, truncation,
wrong types, header sizes) against gunicorn, as in production: never a 500 or a dropped answer,
never a job left pending or a file nobody accounts for. ``scripts/fuzz_ingest.py`` runs
thousands more."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings

from tests.support.multipart_fuzz import (
    SLOT_ID,
    FuzzCase,
    describe,
    fuzz_cases,
    leftovers,
    problems_with,
    send,
)
from tests.support.stored import use_provider

pytestmark = pytest.mark.slow

EXAMPLES = 300


def test_no_multipart_upload_gets_a_500_or_leaves_anything_behind(
    start_gunicorn, db_session, media_root
):
    use_provider(db_session, "local", {"style": "sepia"}, slot_id=SLOT_ID)
    server = start_gunicorn(workers=1)
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
        answer = send(server.url, case)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        assert problems_with(case, answer) == [], f"{describe(case)}\n{answer.body[:300]!r}"
        assert leftovers(db_session, media_root, check_results=False) == []

    upload()
    assert leftovers(db_session, media_root) == []
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert statuses.get(200, 0) > 0 and sum(statuses.values()) >= EXAMPLES
    print(f"fuzz statuses: {dict(sorted(statuses.items(), key=str))}")
