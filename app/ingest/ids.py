import re
import secrets

JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def new_job_id() -> str:
    """128 random bits, URL-safe: unguessable, so a job id can be handed out as a public link."""
    return secrets.token_urlsafe(16)


def is_job_id(value: str) -> bool:
    return bool(JOB_ID_PATTERN.match(value))
