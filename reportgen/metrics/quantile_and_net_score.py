"""Estimates over per-item values beyond means and rates: a quantile (the median handle time)
and the net score (NPS), each with its interval and change test.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reportgen._lazy import lazy
from reportgen.metrics.estimates import Estimate, NoRatio, PerItemSample, change_between
from reportgen.report.model.metric_results import ALL_EQUAL, Change, Interval
from reportgen.text.number import plain

if TYPE_CHECKING:
    import numpy as np

    from reportgen.stats import intervals, significance
    from reportgen.stats import net_score as nps
else:
    np = lazy("numpy")
    intervals = lazy("reportgen.stats.intervals")
    nps = lazy("reportgen.stats.net_score")
    significance = lazy("reportgen.stats.significance")


def mood_test_name(q: float) -> str:
    """The change test's name for quantile ``q``: Mood's median test, or its generalisation."""
    return "Mood's median test" if q == 0.5 else f"Mood's quantile test (q = {plain(q)})"


@dataclass(frozen=True)
class Quantile(PerItemSample):
    """A quantile of per-item values (median first response time, P90 resolution time).

    The interval is distribution-free (binomial order statistics).  A change is tested with
    Mood's median test (generalised to the quantile): it tests the very quantile reported,
    whereas Mann-Whitney tests whether one distribution tends to be larger, which can be
    significant with equal medians (or not with different ones) when shapes differ, as
    skewed handling-time distributions do.
    """

    values: np.ndarray = field(repr=False)
    q: float = 0.5
    kind: str = "quantile"
    test_name: str | None = "Mood's median test"
    interval_name: str | None = "order statistics (binomial)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "test_name", mood_test_name(self.q))

    @property
    def value(self) -> float | None:
        return float(np.quantile(self.values, self.q)) if len(self.values) else None

    def interval(self, level: float) -> Interval | None:
        if len(self.values) >= 2 and float(np.min(self.values)) == float(np.max(self.values)):
            return Interval(float(self.values[0]), float(self.values[0]), level, ALL_EQUAL)
        bounds = intervals.quantile_interval(self.values, self.q, level)
        return None if bounds is None else Interval(*bounds, level, "order statistics (binomial)")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        if not isinstance(previous, Quantile) or previous.q != self.q:
            return change_between(self, previous, None, None, None, alpha)
        chi2, p = significance.quantile_test(self.values, previous.values, self.q)
        return change_between(self, previous, self.test_name, chi2, p, alpha)


@dataclass(frozen=True)
class QuantileSummary(NoRatio):
    """A ``Quantile`` held as what the database computed for its group of values: n, the
    quantile, the smallest and largest value, the two order statistics of its interval at
    ``level``, and Mood's counts against the groups it is compared with.  Reads, tests and
    words exactly as the ``Quantile`` of the same values does.

    ``group`` names the group (breakdown set, period number, breakdown values); ``tests``
    holds Mood's 2x2 counts per (this group, the compared group).
    """

    count: int
    quantile: float | None
    smallest: float | None
    largest: float | None
    bounds: tuple[float, float] | None
    level: float
    group: Hashable = None
    tests: Mapping[tuple[Any, Any], tuple[int, int, int, int]] = \
        field(default_factory=dict, repr=False)
    q: float = 0.5
    kind: str = "quantile"
    test_name: str | None = "Mood's median test"
    interval_name: str | None = "order statistics (binomial)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "test_name", mood_test_name(self.q))

    @property
    def n(self) -> int:
        return self.count

    @property
    def value(self) -> float | None:
        return self.quantile if self.count else None

    def interval(self, level: float) -> Interval | None:
        if self.count >= 2 and self.smallest == self.largest and self.smallest is not None:
            return Interval(self.smallest, self.smallest, level, ALL_EQUAL)
        if level != self.level:
            raise ValueError(f"order statistics were read for level {self.level}, not {level}")
        return None if self.bounds is None else \
            Interval(*self.bounds, level, "order statistics (binomial)")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        if not isinstance(previous, QuantileSummary) or previous.q != self.q:
            return change_between(self, previous, None, None, None, alpha)
        if not self.count or not previous.count:
            return change_between(self, previous, self.test_name, math.nan, math.nan, alpha)
        counts = self.tests.get((self.group, previous.group))
        if counts is None:
            raise LookupError(f"no pooled counts read for {self.group} against {previous.group}")
        chi2, p = significance.quantile_test_of_counts(*counts)
        return change_between(self, previous, self.test_name, chi2, p, alpha)


@dataclass(frozen=True)
class NetScore:
    """A net score in points, -100..100: promoters minus detractors as shares (NPS).

    The interval is the adjusted normal one (a pseudo-answer added to each category, so it
    keeps its level at small n and is never zero-width); a change is tested with the pooled
    z-test from 10 answers a period and the exact conditional test below (both with the
    promoter / passive / detractor shares pooled under H0, see ``nps.net_score_test``).
    """

    promoters: float
    passives: float
    detractors: float
    kind: str = "net_score"
    test_name: str | None = "z-test (pooled under H0)"
    interval_name: str | None = "adjusted normal (one pseudo-answer per category)"

    @property
    def total(self) -> float:
        return self.promoters + self.passives + self.detractors

    def _score(self) -> tuple[float, float] | None:
        if not self.total:
            return None
        return nps.net_score(self.promoters, self.detractors, self.total)

    @property
    def value(self) -> float | None:
        score = self._score()
        return None if score is None else score[0]

    @property
    def n(self) -> int:
        return int(self.total)

    @property
    def numerator(self) -> float | None:
        return None

    @property
    def denominator(self) -> float | None:
        return self.total

    @property
    def counts(self) -> nps.NetCounts:
        return (self.promoters, self.passives, self.detractors)

    def interval(self, level: float) -> Interval | None:
        if not self.total:
            return None
        low, high = nps.net_score_interval(*self.counts, level)
        return Interval(low, high, level, self.interval_name or "")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        if not isinstance(previous, NetScore) or not self.total or not previous.total:
            return change_between(self, previous, None, None, None, alpha)
        method, statistic, p = nps.net_score_test(self.counts, previous.counts)
        name = ("exact conditional test (pooled under H0)" if method.startswith("exact")
                else "z-test (pooled under H0)")
        return change_between(self, previous, name, statistic, p, alpha)
