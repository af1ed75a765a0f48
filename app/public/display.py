"""How the result page words a result's expiry, in the visitor's language and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel import dates
from flask_babel import format_timedelta, get_locale, get_timezone


@dataclass(frozen=True)
class Expiry:
    iso: str
    label: str
    time_left: str
    seconds_left: int


def describe_expiry(expires_at: datetime, seconds_left: int) -> Expiry:
    return Expiry(
        iso=expires_at.astimezone(UTC).isoformat(timespec="seconds"),
        label=date_and_time(expires_at),
        time_left=format_timedelta(timedelta(seconds=seconds_left)),
        seconds_left=seconds_left,
    )


def date_and_time(moment: datetime) -> str:
    """The locale's medium date and short time: "Jan 2, 2099, 3:04 AM", "2 янв. 2099 г., 03:04"."""
    locale, tzinfo = get_locale(), get_timezone()
    date = dates.format_skeleton("yMMMd", moment, tzinfo=tzinfo, locale=locale)
    time = dates.format_time(moment, "short", tzinfo=tzinfo, locale=locale)
    pattern = str(dates.get_datetime_format("medium", locale=locale)).replace("'", "")
    return pattern.replace("{1}", date).replace("{0}", time)
