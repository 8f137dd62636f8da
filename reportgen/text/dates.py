"""Dates and periods as readers see them, in the report's locale (Babel).

Rules: a month reads ``September 2026`` (``März 2026`` in German), a quarter ``Q3 2026``,
a week ``Week 37, 2026``; a date range is the locale's own interval format
(``Sep 1 – 30, 2026`` in ``en``, ``1.–30. Sept. 2026`` in ``de``); a timestamp is the
locale's medium date and short time with its zone (``Oct 2, 2026, 7:00 AM UTC``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date, format_datetime, format_interval, format_skeleton

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


def timestamp(value: datetime, locale: str | None = None) -> str:
    """A moment with its zone: ``Oct 2, 2026, 7:00 AM UTC``; naive moments are shown as-is."""
    loc = resolve(locale)
    if value.tzinfo is None:
        return format_datetime(value, "medium", locale=loc).replace("\u202f", " ")
    zone = "UTC" if value.utcoffset() == UTC.utcoffset(None) else (value.tzname() or "")
    text = f"{format_date(value, 'medium', locale=loc)}, " \
           f"{format_datetime(value, 'short', tzinfo=value.tzinfo, locale=loc).split(', ')[-1]}"
    return f"{text} {zone}".replace("\u202f", " ").strip()
