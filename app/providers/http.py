"""Outbound calls as providers see them: ``app.outbound``'s neutral failures become the
``ProviderError`` a job ends with, here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from app.deadline import Deadline
from app.outbound import AnswerTooLarge, OutboundTimeout, RetriesExhausted, with_retries
from app.providers.base import ProviderError, ProviderTimeout, ProviderUnavailable

JSON_ANSWER_MAX_BYTES = 64 * 1024 * 1024
"""A JSON answer with base64 images in it."""
SMALL_ANSWER_MAX_BYTES = 1024 * 1024
"""Status answers, error bodies, model lists."""
IMAGE_ANSWER_MAX_BYTES = 30 * 1024 * 1024
"""A result image downloaded by its link."""
T = TypeVar("T")


def provider_call(call: Callable[[], T], *, provider: str, deadline: Deadline) -> T:
    """Run ``call`` (which sends through ``app.outbound.send``), retrying transient failures
    while the deadline allows; what still fails is raised as a ``ProviderError``."""
    try:
        return with_retries(call, service=provider, deadline=deadline)
    except RetriesExhausted as error:
        raise ProviderUnavailable(error.message) from error.last
    except OutboundTimeout as error:
        raise ProviderTimeout(error.message) from error
    except AnswerTooLarge as error:
        raise ProviderError(error.message) from error
