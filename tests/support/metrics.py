"""Reading what a scrape of ``GET /metrics`` returns."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
"""Sample value by (sample name, its labels sorted)."""


def scrape(http: requests.Session, url: str, token: str | None = None) -> Samples:
    """Every sample ``url``'s ``/metrics`` serves; fails unless it answers Prometheus text."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = http.get(f"{url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the ``name`` samples whose labels include ``labels``."""
    return sum(
        value
        for (sample_name, sample_labels), value in samples.items()
        if sample_name == name and set(labels.items()) <= set(sample_labels)
    )
