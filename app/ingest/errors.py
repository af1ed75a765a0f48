"""The ingest error table of the product spec: one failure reason, one status, one message."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FAILURES: dict[str, tuple[int, str]] = {
    "invalid_request": (
        400,
        _l("The request must be multipart/form-data with a photo in fileToUpload."),
    ),
    "invalid_image": (400, _l("The photo could not be decoded; it may be damaged or truncated.")),
    "invalid_password": (401, _l("The password is wrong or missing.")),
    "slot_not_found": (404, _l("There is no such slot.")),
    "slot_disabled": (404, _l("This slot is switched off.")),
    "payload_too_large": (413, _l("The photo is too large.")),
    "unsupported_media_type": (415, _l("Only JPEG, PNG and WEBP photos are accepted.")),
    "idempotency_key_reused": (
        422,
        _l("This Idempotency-Key was already used with a different photo; send a new key."),
    ),
    "server_busy": (
        429,
        _l("The server is processing as many photos as it can; try again shortly."),
    ),
    "slot_busy": (429, _l("This slot is processing as many photos as it may; try again shortly.")),
    "provider_busy": (
        429,
        _l("The AI provider is processing as many photos as it may; try again shortly."),
    ),
    "too_many_attempts": (
        429,
        _l("Too many wrong passwords from this client for this slot; try again later."),
    ),
    "provider_error": (502, _l("The AI provider rejected the request.")),
    "provider_blocked": (502, _l("The AI provider refused this photo on safety grounds.")),
    "provider_no_image": (502, _l("The AI provider answered without an image.")),
    "provider_not_configured": (503, _l("The slot's AI provider has no API key configured.")),
    "provider_key_unreadable": (
        503,
        _l(
            "The stored API key of the slot's AI provider cannot be decrypted with the server's "
            "SECRET_KEY; an admin must restore the previous key or enter the API key again."
        ),
    ),
    "provider_unavailable": (503, _l("The AI provider is unavailable right now.")),
    "timeout": (504, _l("Processing did not finish in time.")),
    "storage_full": (
        507,
        _l("The media volume is full; nothing was saved. Try again once space is freed."),
    ),
    "internal_error": (500, _l("Something went wrong on the server; the error was logged.")),
}


class IngestError(Exception):
    """Ends a request with the status and JSON body of ``failure_reason``.

    ``detail`` is a specific message for the log and the job row (English, may name limits);
    the client gets the localized message of the table, followed by the detail when given.
    """

    def __init__(
        self,
        failure_reason: str,
        detail: str | None = None,
        *,
        job_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail or failure_reason)
        self.failure_reason = failure_reason
        self.detail = detail
        self.job_id = job_id
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return FAILURES[self.failure_reason][0]

    def public_message(self) -> str:
        message = str(FAILURES[self.failure_reason][1])
        return f"{message} {self.detail}" if self.detail else message
