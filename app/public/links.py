from __future__ import annotations

from typing import Any

from flask import request, url_for

from app import context


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL under PUBLIC_BASE_URL when set, else under the host the client used."""
    base = context.config().public_base_url or request.host_url
    return base.rstrip("/") + url_for(endpoint, **values)


def result_page_url(job_id: str) -> str:
    return external_url("public.result_page", job_id=job_id)
