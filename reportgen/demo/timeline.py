"""The demo's calendar: the months it spans, daily and hourly volume shapes, UTC timestamps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from reportgen.period import Period

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400

# Monday..Sunday; mean 1 so a month's volume is set by the seasonal factor alone.
WEEKDAY_FACTOR = np.array([1.18, 1.12, 1.08, 1.05, 0.97, 0.82, 0.78])
# Calendar month 1..12: the November/December peak of a retail-heavy customer base.
SEASONAL_FACTOR = np.array([1.02, 0.93, 0.97, 0.95, 0.96, 0.94, 0.95, 0.93, 0.98, 1.02, 1.13, 1.16])
# UTC hour of day for customer contacts: Europe's afternoon overlaps the Americas' morning,
# and Manila's morning fills the UTC night, so there is no empty hour.
CONTACT_HOURS = np.array([
    2.2, 1.9, 1.6, 1.4, 1.4, 1.6, 2.2, 3.0, 4.2, 5.2, 5.6, 5.6,
    5.4, 5.8, 6.2, 6.4, 6.2, 5.8, 5.2, 4.6, 4.0, 3.4, 2.9, 2.5,
])
# Reviewers, moderators' leads and calibrators work office hours.
OFFICE_HOURS = np.array([0.0] * 8 + [1.0] * 10 + [0.0] * 6)


@dataclass(frozen=True)
class Timeline:
    """``months`` whole calendar months ending with ``end_month``, observed at its end."""

    end_month: date
    months: int

    @cached_property
    def month_starts(self) -> np.ndarray:
        """First day of each month, oldest first, plus the exclusive end (datetime64[D])."""
        last = Period(self.end_month, "month")
        starts = [p.start for p in last.trailing(self.months)] + [last.end]
        return np.array(starts, dtype="datetime64[D]")

    @property
    def start(self) -> np.datetime64:
        return self.month_starts[0].astype("datetime64[s]")

    @property
    def snapshot(self) -> np.datetime64:
        """The instant the data was extracted: midnight UTC after the last month."""
        return self.month_starts[-1].astype("datetime64[s]")

    def days(self) -> np.ndarray:
        """Every day of the span (datetime64[D])."""
        starts = self.month_starts
        return np.arange(starts[0], starts[-1], dtype="datetime64[D]")

    def month_index(self, moments: np.ndarray) -> np.ndarray:
        """Index (0 = oldest) of the month each datetime64 moment falls in."""
        edges = self.month_starts.astype("datetime64[s]")
        return np.searchsorted(edges, moments.astype("datetime64[s]"), side="right") - 1

    def months_before_end(self, moments: np.ndarray) -> np.ndarray:
        """How many months before ``end_month`` each moment is (0 = in the last month)."""
        return self.months - 1 - self.month_index(moments)

    def daily_volume(self, per_day: float, holidays: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(days, expected count per day) with weekday, seasonal and holiday shape."""
        days = self.days()
        weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
        month = days.astype("datetime64[M]").astype("int64") % 12
        expected = per_day * WEEKDAY_FACTOR[weekday] * SEASONAL_FACTOR[month]
        if holidays:
            day_of_month = (days - days.astype("datetime64[M]")).astype("int64") + 1
            closed = ((month == 11) & (day_of_month == 25)) | ((month == 0) & (day_of_month == 1))
            expected = np.where(closed, expected * 0.45, expected)
            # Black Friday weekend and Cyber Monday: the busiest days of the year.
            expected = np.where((month == 10) & (day_of_month >= 24) & (day_of_month <= 30),
                                expected * 1.35, expected)
        return days, expected

    def sample_instants(self, rng: np.random.Generator, per_day: float,
                        hours: np.ndarray = CONTACT_HOURS, holidays: bool = True) -> np.ndarray:
        """Poisson arrivals over the span, sorted (datetime64[s])."""
        days, expected = self.daily_volume(per_day, holidays)
        counts = rng.poisson(expected)
        day_of = np.repeat(days, counts).astype("datetime64[s]")
        return np.sort(day_of + _time_of_day(rng, day_of.size, hours))


def _time_of_day(rng: np.random.Generator, n: int, hours: np.ndarray) -> np.ndarray:
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    seconds = hour * SECONDS_PER_HOUR + rng.integers(0, SECONDS_PER_HOUR, size=n)
    return seconds.astype("timedelta64[s]")


def office_time_on(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A random office-hours instant on each of ``days`` (datetime64[D] -> datetime64[s])."""
    return days.astype("datetime64[D]").astype("datetime64[s]") + _time_of_day(
        rng, days.size, OFFICE_HOURS
    )


def minutes(values: np.ndarray) -> np.ndarray:
    """Float minutes as timedelta64[s] (NaN becomes NaT)."""
    return _seconds(values * 60.0)


def hours(values: np.ndarray) -> np.ndarray:
    """Float hours as timedelta64[s] (NaN becomes NaT)."""
    return _seconds(values * 3600.0)


def _seconds(values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape, np.timedelta64("NaT"), dtype="timedelta64[s]")
    ok = ~np.isnan(values)
    out[ok] = np.round(values[ok]).astype("int64").astype("timedelta64[s]")
    return out


def as_text(moments: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' strings (UTC, naive) as an object array; NaT becomes None."""
    text = np.datetime_as_string(moments.astype("datetime64[s]"), unit="s")
    if text.size:
        # ISO 8601 puts a 'T' at position 10; overwrite it in place rather than search.
        text.view(np.uint32).reshape(text.size, -1)[:, 10] = ord(" ")
    out = text.astype(object)
    out[np.isnat(moments)] = None
    return out


def day_text(days: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD' strings as an object array."""
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
