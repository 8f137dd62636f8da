"""Reporting periods (week, month, quarter) in a timezone.

A period is a half-open range of local calendar days ``[start, end)``.  Its instants are
local midnights made aware in the period's zone, so a month that contains a DST change is
still exactly that month (it simply has 743 or 745 hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reportgen.errors import PeriodError

Grain = Literal["week", "month", "quarter"]
GRAINS: tuple[Grain, ...] = ("week", "month", "quarter")

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
#: the years a period may name: a report also reads the periods around it (its end, the
#: previous periods of its history), which must stay within the calendar Python can count
YEARS = (1900, 9998)


def zone(name: str) -> ZoneInfo:
    """The zoneinfo for ``name``, or a PeriodError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(
            f"unknown timezone '{name}'; expected an IANA name such as 'Europe/Berlin'"
        ) from None


def _floor(day: date, grain: Grain) -> date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day - timedelta(days=day.weekday())  # ISO weeks start on Monday


def _add(start: date, grain: Grain, n: int) -> date:
    if grain == "week":
        return start + timedelta(weeks=n)
    months = 3 * n if grain == "quarter" else n
    index = start.year * 12 + (start.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period: ``grain`` starting on local day ``start`` in ``timezone``."""

    start: date
    grain: Grain
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise PeriodError(f"unknown period grain '{self.grain}'; expected one of {GRAINS}")
        if _floor(self.start, self.grain) != self.start:
            raise PeriodError(f"{self.start} is not the first day of a {self.grain}")

    # --- construction -------------------------------------------------------------------
    @classmethod
    def containing(cls, day: date, grain: Grain, timezone: str = "UTC") -> Period:
        return cls(_floor(day, grain), grain, timezone)

    @classmethod
    def last_complete(cls, now: datetime, grain: Grain, timezone: str = "UTC") -> Period:
        """The most recent period that has fully ended at ``now`` in ``timezone``."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        local_day = now.astimezone(zone(timezone)).date()
        return cls.containing(local_day, grain, timezone).previous()

    @classmethod
    def parse(cls, text: str, grain: Grain, timezone: str = "UTC") -> Period:
        """Parse ``2026-10`` (month), ``2026-Q3`` (quarter) or ``2026-W42`` (ISO week).

        A month given for a quarterly report means the quarter containing it; a week or
        month key for a coarser grain is accepted the same way, so any period can be named.
        """
        value = text.strip()
        day: date | None = None
        year_of = re.match(r"^(\d{4})(?:-|[QqWw])", value)
        if year_of and not YEARS[0] <= int(year_of[1]) <= YEARS[1]:
            raise PeriodError(f"period '{text}': expected a year from {YEARS[0]} to "
                              f"{YEARS[1]}, found {year_of[1]}")
        if m := _MONTH.match(value):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise PeriodError(f"period '{text}': month must be 01-12, found {month:02d}")
            if grain == "week":
                raise PeriodError(
                    f"period '{text}' names a month but the report is weekly; "
                    f"expected an ISO week such as {year}-W01"
                )
            day = date(year, month, 1)
        elif m := _QUARTER.match(value):
            if grain != "quarter":
                raise PeriodError(
                    f"period '{text}' names a quarter but the report is {grain}ly; "
                    f"expected {'2026-10' if grain == 'month' else '2026-W42'}"
                )
            day = date(int(m[1]), 3 * (int(m[2]) - 1) + 1, 1)
        elif m := _WEEK.match(value):
            year, week = int(m[1]), int(m[2])
            try:
                day = date.fromisocalendar(year, week, 1)
            except ValueError:
                raise PeriodError(f"period '{text}': {year} has no ISO week {week}") from None
            if grain != "week":
                raise PeriodError(f"period '{text}' names a week but the report is {grain}ly")
        else:
            raise PeriodError(
                f"cannot read period '{text}'; expected YYYY-MM (month), YYYY-Qn (quarter) "
                f"or YYYY-Www (ISO week)"
            )
        return cls.containing(day, grain, timezone)

    # --- arithmetic ---------------------------------------------------------------------
    @property
    def end(self) -> date:
        """First local day after the period (exclusive)."""
        return _add(self.start, self.grain, 1)

    def shift(self, n: int) -> Period:
        return Period(_add(self.start, self.grain, n), self.grain, self.timezone)

    def previous(self) -> Period:
        return self.shift(-1)

    def next(self) -> Period:
        return self.shift(1)

    def trailing(self, count: int) -> list[Period]:
        """The ``count`` periods ending with this one, oldest first."""
        return [self.shift(-i) for i in range(count - 1, -1, -1)]

    def same_period_last_year(self) -> Period:
        if self.grain == "week":
            iso = self.start.isocalendar()
            try:
                day = date.fromisocalendar(iso.year - 1, iso.week, 1)
            except ValueError:  # week 53 in a 52-week year
                day = date.fromisocalendar(iso.year - 1, 52, 1)
            return Period(day, "week", self.timezone)
        return self.shift(-4 if self.grain == "quarter" else -12)

    # --- instants -----------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time(), self.tz)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, datetime.min.time(), self.tz)

    def contains(self, moment: datetime) -> bool:
        return self.start_at <= moment < self.end_at

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    # --- names --------------------------------------------------------------------------
    @property
    def key(self) -> str:
        if self.grain == "month":
            return f"{self.start:%Y-%m}"
        if self.grain == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        iso = self.start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"

    @property
    def label(self) -> str:
        """Human label in the report's locale: 'October 2026', 'Q3 2026', 'Week 42, 2026'."""
        from reportgen.text.dates import period_label

        return period_label(self.grain, self.start)

    @property
    def short_label(self) -> str:
        """Axis label: 'Oct 26', 'Q3 26', 'W42 26'."""
        if self.grain == "month":
            from reportgen.text.dates import month_axis

            return month_axis(self.start)
        if self.grain == "quarter":
            from reportgen.text.dates import quarter_axis

            return quarter_axis(self.start)
        from reportgen.text.dates import week_axis

        return week_axis(self.start)

    @property
    def date_range_label(self) -> str:
        """The days the period covers, in the report's locale: ``Oct 1 – 31, 2026``."""
        from reportgen.text.dates import date_range

        return date_range(self.start, self.end)

    def __str__(self) -> str:
        return self.key
