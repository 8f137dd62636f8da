"""Dates and periods as readers see them, in the report's locale (Babel).

Rules: a month reads ``September 2026`` (``März 2026`` in German), a quarter ``Q3 2026``,
a week ``Week 37, 2026``; a date range is the locale's own interval format
(``Sep 1 – 30, 2026`` in ``en``, ``1.–30. Sept. 2026`` in ``de``); a timestamp is the
locale's medium date and short time with its zone (``Oct 2, 2026, 7:00 AM UTC``),
the same on the PDF cover, the deck and its notes, the e-mail and the web pages.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import (
    format_date,
    format_interval,
    format_skeleton,
    format_time,
    get_datetime_format,
)

from reportgen.text.locales import resolve


def month(day: date, locale: str | None = None) -> str:
    """The month ``day`` falls in, standalone: ``September 2026``."""
    return format_date(day, "LLLL y", locale=resolve(locale))


def short_month(day: date, locale: str | None = None) -> str:
    """An axis label for a month: ``Sep 2026``."""
    return format_skeleton("yMMM", day, locale=resolve(locale))


def month_axis(day: date, locale: str | None = None) -> str:
    """A compact axis label for a month: ``Sep 26`` (``Sept. 26`` in German)."""
    return format_date(day, "MMM yy", locale=resolve(locale))


def period_label(grain: str, start: date, locale: str | None = None) -> str:
    """A period for a title: ``September 2026``, ``Q3 2026``, ``Week 37, 2026``."""
    if grain == "month":
        return month(start, locale)
    if grain == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    iso = start.isocalendar()
    return f"Week {iso.week}, {iso.year}"


def date_range(start: date, end_exclusive: date, locale: str | None = None) -> str:
    """The days a period covers (``end_exclusive`` is the day after the last)."""
    last = end_exclusive - timedelta(days=1)
    return format_interval(start, last, "yMMMd", locale=resolve(locale))


def day(value: date, locale: str | None = None) -> str:
    """A single day: ``Jun 1, 2026`` (en), ``01.06.2026`` (de)."""
    return format_date(value, "medium", locale=resolve(locale))


def timestamp(value: datetime, zone: str | tzinfo | None = None,
              locale: str | None = None) -> str:
    """A moment for readers: the locale's medium date and short time, joined the locale's
    way, then the zone's abbreviation (``Dec 6, 2026, 6:22 PM UTC`` in ``en``,
    ``06.12.2026, 19:22 CET`` in ``de`` for Europe/Berlin).

    ``zone`` (an IANA name or a tzinfo) is where the reader is: an aware ``value`` is shown
    there; an unknown name keeps the moment's own zone.  A naive moment is shown as given,
    with no zone.  The abbreviation (``UTC``, ``CET``, ``EST``) is the time zone database's,
    the same in every language, since the locale data names few zones short.
    """
    loc = resolve(locale)
    if value.tzinfo is not None and zone is not None:
        where = _zone(zone)
        if where is not None:
            value = value.astimezone(where)
    # Babel gives the locale's joining pattern ("{1}, {0}") as a string (its stubs say pattern)
    joined = str(get_datetime_format("medium", locale=loc)).replace("'", "")
    text = joined.replace("{1}", format_date(value, "medium", locale=loc)).replace(
        "{0}", format_time(value, "short", tzinfo=value.tzinfo, locale=loc))
    if value.tzinfo is not None:
        text = f"{text} {_abbreviation(value)}"
    return text.replace("\u202f", " ")


def clock(value: datetime, zone: str | tzinfo | None = None, locale: str | None = None) -> str:
    """The time of day alone, as :func:`timestamp` writes it: ``6:22 PM`` (en), ``18:22`` (de)."""
    loc = resolve(locale)
    if value.tzinfo is not None and zone is not None and (where := _zone(zone)) is not None:
        value = value.astimezone(where)
    return format_time(value, "short", tzinfo=value.tzinfo, locale=loc).replace("\u202f", " ")


def _zone(zone: str | tzinfo) -> tzinfo | None:
    if isinstance(zone, tzinfo):
        return zone
    try:
        return UTC if zone.upper() == "UTC" else ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _abbreviation(value: datetime) -> str:
    if value.utcoffset() == timedelta(0) and value.tzname() in {"UTC", "Etc/UTC", "Z", None}:
        return "UTC"
    return value.tzname() or ""


def quarter_axis(start: date, locale: str | None = None) -> str:
    """A compact axis label for a quarter: ``Q3 26``."""
    return format_date(start, "QQQ yy", locale=resolve(locale))


def week_axis(start: date, locale: str | None = None) -> str:
    """A compact axis label for an ISO week: ``W42 26``."""
    iso = start.isocalendar()
    return f"W{iso.week:02d} {iso.year % 100:02d}"
