"""What a calculator measures in one slice of data, and the statistics that go with it.

A calculator reduces a DataFrame to an *estimate*; the estimate knows its value, its n,
its confidence interval and how to test a change against the same estimate of another
period.  Keeping the statistics here means every calculator of one kind (all rates, all
means) is tested and reported the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from reportgen._lazy import lazy
from reportgen.report.model.metric_results import ALL_EQUAL, Change, Interval

if TYPE_CHECKING:
    import numpy as np

    from reportgen.stats import intervals, significance
else:
    np = lazy("numpy")
    intervals = lazy("reportgen.stats.intervals")
    significance = lazy("reportgen.stats.significance")


class Estimate(Protocol):
    """What the engine asks of every estimate."""

    @property
    def kind(self) -> str: ...
    @property
    def test_name(self) -> str | None: ...
    @property
    def interval_name(self) -> str | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def n(self) -> int: ...
    @property
    def numerator(self) -> float | None: ...
    @property
    def denominator(self) -> float | None: ...
    def interval(self, level: float) -> Interval | None: ...
    def compare(self, previous: Estimate, alpha: float) -> Change: ...


def change_between(current: Estimate, previous: Estimate, test: str | None,
            statistic: float | None, p_value: float | None, alpha: float) -> Change:
    """The change from ``previous`` to ``current``, significant when ``p_value`` < ``alpha``."""
    value, before = current.value, previous.value
    delta = None if value is None or before is None else value - before
    usable = p_value is not None and not math.isnan(p_value)
    return Change(
        previous=before, previous_n=previous.n, delta=delta, test=test,
        statistic=None if statistic is None or math.isnan(statistic) else statistic,
        p_value=p_value if usable else None,
        significant=bool(usable and p_value is not None and p_value < alpha), alpha=alpha,
    )


@dataclass(frozen=True)
class Proportion:
    """A share: ``successes / trials`` (CSAT, pass rate, reopen rate...)."""

    successes: float
    trials: float
    kind: str = "proportion"
    test_name: str | None = "two-proportion z-test"
    interval_name: str | None = "Wilson"

    @property
    def value(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @property
    def n(self) -> int:
        return int(self.trials)

    @property
    def numerator(self) -> float | None:
        return self.successes

    @property
    def denominator(self) -> float | None:
        return self.trials

    def interval(self, level: float) -> Interval | None:
        if not self.trials:
            return None
        low, high = intervals.wilson_interval(self.successes, self.trials, level)
        return Interval(low, high, level, "Wilson")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        if not isinstance(previous, Proportion) or not self.trials or not previous.trials:
            return change_between(self, previous, None, None, None, alpha)
        z, p = significance.two_proportion_ztest(self.successes, self.trials,
                                          previous.successes, previous.trials)
        return change_between(self, previous, self.test_name, z, p, alpha)


class NoRatio:
    """An estimate that is not a ratio of counts: no numerator or denominator to show."""

    @property
    def numerator(self) -> float | None:
        return None

    @property
    def denominator(self) -> float | None:
        return None


class PerItemSample(NoRatio):
    """What every estimate over per-item values shares: n is the item count, no ratio."""

    values: np.ndarray

    @property
    def n(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Mean(NoRatio):
    """An average of per-item values (QA review score, CES, handle time...).

    Held as its sufficient statistics (n, mean, sample variance), so the database can
    compute them; ``Mean.of`` builds one from values.
    """

    count: int
    mean: float | None
    variance: float | None
    kind: str = "mean"
    test_name: str | None = "Welch's t-test"
    interval_name: str | None = "Student t"

    @classmethod
    def of(cls, values: np.ndarray) -> Mean:
        values = np.asarray(values, dtype=float)
        n = len(values)
        return cls(n, float(np.mean(values)) if n else None,
                   float(np.var(values, ddof=1)) if n > 1 else None)

    @property
    def value(self) -> float | None:
        return self.mean if self.count else None

    @property
    def n(self) -> int:
        return int(self.count)

    @property
    def sd(self) -> float | None:
        return None if self.variance is None else math.sqrt(max(self.variance, 0.0))

    def all_equal(self) -> bool:
        """Whether every value was the same (no spread: the variance is zero up to the
        rounding of sums of squares)."""
        if self.count < 2 or self.mean is None or self.variance is None:
            return False
        # |mean| squared without overflow: a value of 1e308 is data, not an error
        scale = max(1.0, abs(self.mean))
        return self.variance / scale <= 1e-12 * scale

    def interval(self, level: float) -> Interval | None:
        if self.count < 2 or self.mean is None:
            return None
        if self.all_equal():
            return Interval(self.mean, self.mean, level, ALL_EQUAL)
        low, high = intervals.t_interval_from_stats(self.mean, self.sd or 0.0, self.count, level)
        return Interval(low, high, level, "Student t")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        if not isinstance(previous, Mean) or self.mean is None or previous.mean is None:
            return change_between(self, previous, None, None, None, alpha)
        t, p = significance.welch_ttest_from_stats(self.mean, self.sd, self.count,
                                            previous.mean, previous.sd, previous.count)
        return change_between(self, previous, self.test_name, t, p, alpha)


@dataclass(frozen=True)
class Count:
    """A count of events in a period (volume, backlog).  No interval: the count is exact.

    ``observed`` is the number of rows the count was taken from when that differs from the
    count itself (a backlog of 0 out of 480 tickets is a real zero, not missing data).
    """

    count: float
    observed: int | None = None
    kind: str = "count"
    test_name: str | None = None
    interval_name: str | None = None

    @property
    def value(self) -> float | None:
        return float(self.count)

    @property
    def n(self) -> int:
        return int(self.count) if self.observed is None else self.observed

    @property
    def numerator(self) -> float | None:
        return float(self.count)

    @property
    def denominator(self) -> float | None:
        return None

    def interval(self, level: float) -> Interval | None:
        return None

    def compare(self, previous: Estimate, alpha: float) -> Change:
        return change_between(self, previous, None, None, None, alpha)


IntervalFn = Callable[[float], "tuple[float, float] | None"]


@dataclass(frozen=True)
class Statistic:
    """A single statistic (kappa, alpha, ICC, a deviation) with an optional interval.

    There is no change test: the delta against the previous period is reported, but a
    difference of two agreement coefficients has no test the libraries provide.
    ``interval_fn`` maps a confidence level to bounds (or None when unavailable) and
    ``interval_name`` names its method.
    """

    statistic: float | None
    units: int
    interval_name: str | None = None
    interval_fn: IntervalFn | None = field(default=None, repr=False, compare=False)
    kind: str = "statistic"
    test_name: str | None = None

    @property
    def value(self) -> float | None:
        if self.statistic is None or math.isnan(self.statistic):
            return None
        return self.statistic

    @property
    def n(self) -> int:
        return self.units

    @property
    def numerator(self) -> float | None:
        return None

    @property
    def denominator(self) -> float | None:
        return None

    def interval(self, level: float) -> Interval | None:
        if self.interval_fn is None or self.value is None:
            return None
        bounds = self.interval_fn(level)
        if bounds is None:
            return None
        return Interval(bounds[0], bounds[1], level, self.interval_name or "")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        return change_between(self, previous, None, None, None, alpha)


def proportion_from(values: Mapping[str, Any]) -> Proportion:
    """A Proportion from aggregates named ``successes`` and ``trials`` (absent: no rows)."""
    return Proportion(float(values.get("successes") or 0), float(values.get("trials") or 0))


def mean_from(values: Mapping[str, Any]) -> Mean:
    """A Mean from aggregates named ``n``, ``mean`` and ``var`` (absent: no rows)."""
    n = int(values.get("n") or 0)
    mean, var = values.get("mean"), values.get("var")
    return Mean(n, None if mean is None or not n else float(mean),
                None if var is None or n < 2 else float(var))
