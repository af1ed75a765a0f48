"""Everything the bot says, in the user's language (called inside ``force_locale``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l

from app.bot.client import MAX_DOWNLOAD_BYTES

MAX_FILE_MB = MAX_DOWNLOAD_BYTES // (1024 * 1024)

FAILURES: dict[str, str] = {
    "server_busy": _l(
        "Too many photos are being processed right now. Please try again in a minute."
    ),
    "slot_busy": _l("Too many photos are being processed right now. Please try again in a minute."),
    "provider_busy": _l(
        "Too many photos are being processed right now. Please try again in a minute."
    ),
    "provider_blocked": _l(
        "The AI refused this photo on safety grounds. Please try another photo."
    ),
    "provider_no_image": _l(
        "The AI answered without a picture. Please try again or choose another style."
    ),
    "provider_error": _l("The AI service is not available right now. Please try again later."),
    "provider_unavailable": _l(
        "The AI service is not available right now. Please try again later."
    ),
    "provider_not_configured": _l("This style is not available right now. Please choose another."),
    "provider_key_unreadable": _l("This style is not available right now. Please choose another."),
    "timeout": _l("Processing took too long. Please try again."),
    "payload_too_large": _l("The photo is too large for this style. Please send a smaller one."),
    "unsupported_media_type": _l("This is not a photo: please send a JPEG, PNG or WEBP image."),
    "invalid_image": _l("The photo could not be read; it may be damaged. Please send another."),
    "slot_not_found": _l("This style is not available any more. Please choose another."),
    "slot_disabled": _l("This style is not available any more. Please choose another."),
}


def _(message: str, **values: Any) -> str:
    return str(gettext(message, **values))


def failure(reason: str) -> str:
    """The friendly text of an ingest failure reason."""
    text = FAILURES.get(reason)
    return str(text) if text is not None else something_went_wrong()


def something_went_wrong() -> str:
    return _("Something went wrong on our side. Please try again.")


def greeting(seconds: int, ttl_hours: int) -> str:
    return _(
        "Hi! I turn your photo into a picture in the style you choose.\n\n"
        "Choose a style below, then send a photo (as a photo or as a file, up to %(mb)d MB). "
        "It takes up to %(seconds)d seconds; results are kept for %(hours)d hours.",
        mb=MAX_FILE_MB,
        seconds=seconds,
        hours=ttl_hours,
    )


def help_text(seconds: int, ttl_hours: int) -> str:
    return _(
        "How it works:\n"
        "1. Choose a style: /styles\n"
        "2. Send a photo (as a photo or as a file, up to %(mb)d MB).\n"
        "3. In up to %(seconds)d seconds you get the picture and a link to it, kept for "
        "%(hours)d hours.\n\n"
        "/status shows how many photos you have left today, /lang changes the language.",
        mb=MAX_FILE_MB,
        seconds=seconds,
        hours=ttl_hours,
    )


def no_styles() -> str:
    return _("No styles are offered right now. Please come back later.")


def choose_style() -> str:
    return _("Choose a style:")


def style_selected(label: str) -> str:
    return _("Style “%(style)s” selected. Now send a photo.", style=label)


def style_unavailable() -> str:
    return _("This style is not available any more. Please choose another.")


def photo_kept(minutes: int) -> str:
    return _("Got your photo! Choose a style within %(minutes)d minutes:", minutes=minutes)


def pending_expired() -> str:
    return _("That photo has expired. Please send it again.")


def processing(seconds: int) -> str:
    return _("Processing… up to %(seconds)d s", seconds=seconds)


def result_caption(label: str, link: str, expires_at: datetime) -> str:
    return _(
        "%(style)s\nPage with the picture: %(link)s\nKept until %(when)s UTC",
        style=label,
        link=link,
        when=format_datetime(expires_at, "d MMMM, HH:mm"),
    )


def result_ready(link: str) -> str:
    return _("Your picture is ready: %(link)s", link=link)


def result_expired(ttl_hours: int) -> str:
    return _("This result has expired: results are kept for %(hours)d hours.", hours=ttl_hours)


def still_busy() -> str:
    return _("I am still working on your previous photo. Please wait for it.")


def daily_limit(limit: int, resets_at: datetime, now: datetime) -> str:
    minutes = max(1, int((resets_at - now).total_seconds() // 60))
    return _(
        "You have used all %(limit)d photos for today. The limit resets at 00:00 UTC "
        "(in %(hours)d h %(minutes)d min).",
        limit=limit,
        hours=minutes // 60,
        minutes=minutes % 60,
    )


def not_an_image() -> str:
    return _("I can only process images (JPEG, PNG or WEBP). Please send a photo.")


def file_too_large() -> str:
    return _("The file is larger than %(mb)d MB. Please send a smaller one.", mb=MAX_FILE_MB)


def download_failed() -> str:
    return _("I could not get your photo from Telegram. Please send it again.")


def send_a_photo() -> str:
    return _("Send me a photo, or choose a style: /styles")


def status(left: int | None, limit: int, last_link: str | None) -> str:
    if left is None:
        lines = [_("You have no daily limit.")]
    else:
        lines = [_("Photos left today: %(left)d of %(limit)d.", left=left, limit=limit)]
    if last_link:
        lines.append(_("Your last picture: %(link)s", link=last_link))
    else:
        lines.append(_("You have no picture that is still kept."))
    return "\n".join(lines)


def choose_language() -> str:
    return _("Choose your language:")


def language_set() -> str:
    return _("I will speak English now.")


def private_chat_only(link: str) -> str:
    return _("I process photos in a private chat only: %(link)s", link=link)


def invalid_button() -> str:
    return _("This button is no longer valid.")


def button_again() -> str:
    return _("Again")


def button_another_style() -> str:
    return _("Another style")


def button_original() -> str:
    return _("Original file")
