"""The public links Turbotext fetches our images from: valid until the deadline or the discard."""

from __future__ import annotations

import time

import requests

from tests.support.turbotext_driver import GENERATE, JOB_ID, request_for


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
