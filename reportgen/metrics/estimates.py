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
from reportgen.report.model import ALL_EQUAL, Change, Interval
from reportgen.text.number import count as count_text
from reportgen.text.number import decimal, plain

if TYPE_CHECKING:
    import numpy as np

    from reportgen.stats import clustered, clustered_proportions, intervals, significance
    from reportgen.stats import net_score as nps
else:
    np = lazy("numpy")
    clustered_proportions = lazy("reportgen.stats.clustered_proportions")
    intervals = lazy("reportgen.stats.intervals")
    nps = lazy("reportgen.stats.net_score")
    significance = lazy("reportgen.stats.significance")
    clustered = lazy("reportgen.stats.clustered")


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


def _change(current: Estimate, previous: Estimate, test: str | None,
            statistic: float | None, p_value: float | None, alpha: float) -> Change:
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
            return _change(self, previous, None, None, None, alpha)
        z, p = significance.two_proportion_ztest(self.successes, self.trials,
                                          previous.successes, previous.trials)
        return _change(self, previous, self.test_name, z, p, alpha)


class _NoRatio:
    """An estimate that is not a ratio of counts: no numerator or denominator to show."""

    @property
    def numerator(self) -> float | None:
        return None

    @property
    def denominator(self) -> float | None:
        return None


class _Sample(_NoRatio):
    """What every estimate over per-item values shares: n is the item count, no ratio."""

    values: np.ndarray

    @property
    def n(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Mean(_NoRatio):
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
            return _change(self, previous, None, None, None, alpha)
        t, p = significance.welch_ttest_from_stats(self.mean, self.sd, self.count,
                                            previous.mean, previous.sd, previous.count)
        return _change(self, previous, self.test_name, t, p, alpha)


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
        return _change(self, previous, None, None, None, alpha)


@dataclass(frozen=True)
class Quantile(_Sample):
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
        if self.q != 0.5:
            object.__setattr__(self, "test_name", f"Mood's quantile test (q = {plain(self.q)})")

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
            return _change(self, previous, None, None, None, alpha)
        chi2, p = significance.quantile_test(self.values, previous.values, self.q)
        return _change(self, previous, self.test_name, chi2, p, alpha)


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
            return _change(self, previous, None, None, None, alpha)
        method, statistic, p = nps.net_score_test(self.counts, previous.counts)
        name = ("exact conditional test (pooled under H0)" if method.startswith("exact")
                else "z-test (pooled under H0)")
        return _change(self, previous, name, statistic, p, alpha)


@dataclass(frozen=True)
class ClusteredProportion(Proportion):
    """A share of audits whose audits are grouped in clusters (reviews of the same agent).

    ``cluster_successes`` / ``cluster_trials`` hold each cluster's sums.  Audits of one agent
    resemble each other, so they carry less information than as many independent audits:
    the interval is Wilson's on the effective sample size (n over the cluster-robust design
    effect, Korn & Graubard) and a change is tested with the design-effect-corrected z-test.
    Fewer than two clusters: the plain Wilson interval and z-test.
    """

    cluster_successes: tuple[float, ...] = ()
    cluster_trials: tuple[float, ...] = ()
    test_name: str | None = "two-proportion z-test (design-effect corrected)"
    interval_name: str | None = "Wilson on the effective n (cluster-robust design effect)"

    def design(self, level: float = 0.95) -> clustered_proportions.ClusterDesign | None:
        return clustered_proportions.cluster_design(self.cluster_successes, self.cluster_trials, level)

    def interval(self, level: float) -> Interval | None:
        if not self.trials:
            return None
        bounds = clustered_proportions.clustered_wilson_interval(self.cluster_successes, self.cluster_trials,
                                                 level)
        if bounds is None:
            return super().interval(level)
        return Interval(bounds[0], bounds[1], level, self.interval_name or "")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        if not isinstance(previous, Proportion) or not self.trials or not previous.trials:
            return _change(self, previous, None, None, None, alpha)
        now, before = self.design(), _design_of(previous)
        z, p = clustered_proportions.clustered_proportion_ztest(
            self.successes / self.trials, self.trials, now.design_effect if now else 1.0,
            previous.successes / previous.trials, previous.trials,
            before.design_effect if before else 1.0)
        # one agent's own audits (a breakdown by agent) have no design effect to allow for
        name = self.test_name if now or before else Proportion.test_name
        return _change(self, previous, name, z, p, alpha)


def _design_of(estimate: Proportion) -> clustered_proportions.ClusterDesign | None:
    return estimate.design() if isinstance(estimate, ClusteredProportion) else None


@dataclass(frozen=True)
class ClusteredMean(Mean):
    """A mean of audits grouped in clusters (QA scores of reviews of the same agent).

    ``cluster_counts`` / ``cluster_sums`` / ``cluster_sums_of_squares`` hold each cluster's
    sufficient statistics.  The interval is Student t on G - 1 degrees of freedom with the
    cluster-robust (sandwich) variance of the mean, never below the independent one; a
    change is tested with a Welch-type t-test on those variances (Satterthwaite's degrees
    of freedom).  Fewer than two clusters: the plain t interval and Welch's test.
    """

    cluster_counts: tuple[float, ...] = ()
    cluster_sums: tuple[float, ...] = ()
    cluster_sums_of_squares: tuple[float, ...] = ()
    test_name: str | None = "Welch's t-test (cluster-robust variance)"
    interval_name: str | None = "Student t on the clusters (cluster-robust variance)"

    @classmethod
    def of_clusters(cls, counts: tuple[float, ...], sums: tuple[float, ...],
                    sums_of_squares: tuple[float, ...]) -> ClusteredMean:
        n = int(sum(counts))
        total, squares = float(sum(sums)), float(sum(sums_of_squares))
        mean = total / n if n else None
        variance = (max(squares - n * mean**2, 0.0) / (n - 1)
                    if mean is not None and n > 1 else None)
        return cls(n, mean, variance, cluster_counts=counts, cluster_sums=sums,
                   cluster_sums_of_squares=sums_of_squares)

    def design(self) -> clustered.ClusteredMeanDesign | None:
        return clustered.clustered_mean_design(self.cluster_counts, self.cluster_sums,
                                               self.cluster_sums_of_squares)

    def interval(self, level: float) -> Interval | None:
        design = self.design()
        if design is None or self.all_equal():
            return super().interval(level)
        low, high = clustered.clustered_t_interval(design, level)
        return Interval(low, high, level, self.interval_name or "")

    def compare(self, previous: Estimate, alpha: float) -> Change:
        if not isinstance(previous, Mean) or self.mean is None or previous.mean is None:
            return _change(self, previous, None, None, None, alpha)
        now, before = _mean_variance(self), _mean_variance(previous)
        # one agent's own audits (a breakdown by agent) have no design effect to allow for
        name = (self.test_name if self.design() is not None or isinstance(previous, ClusteredMean)
                and previous.design() is not None else Mean.test_name)
        if now is None or before is None:
            return _change(self, previous, name, None, None, alpha)
        t, p = clustered.clustered_mean_ttest(self.mean, *now, previous.mean, *before)
        return _change(self, previous, name, t, p, alpha)


def _mean_variance(estimate: Mean) -> tuple[float, float] | None:
    """(variance of the mean, its degrees of freedom): clustered when the estimate is."""
    design = estimate.design() if isinstance(estimate, ClusteredMean) else None
    if design is not None:
        return design.variance, float(design.df)
    if estimate.count < 2 or estimate.variance is None:
        return None
    return estimate.variance / estimate.count, float(estimate.count - 1)


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
        return _change(self, previous, None, None, None, alpha)


def proportion_from(values: Mapping[str, Any]) -> Proportion:
    """A Proportion from aggregates named ``successes`` and ``trials`` (absent: no rows)."""
    return Proportion(float(values.get("successes") or 0), float(values.get("trials") or 0))


def mean_from(values: Mapping[str, Any]) -> Mean:
    """A Mean from aggregates named ``n``, ``mean`` and ``var`` (absent: no rows)."""
    n = int(values.get("n") or 0)
    mean, var = values.get("mean"), values.get("var")
    return Mean(n, None if mean is None or not n else float(mean),
                None if var is None or n < 2 else float(var))


def sampling_variance(estimate: Estimate) -> tuple[float, float] | None:
    """(variance of the estimate, its degrees of freedom) for rates and means, allowing for
    a declared cluster; None for other kinds or too little data.  The degrees of freedom
    are ``math.inf`` for a binomial variance, n - 1 for a mean, G - 1 when clustered."""
    if isinstance(estimate, Mean):
        return _mean_variance(estimate)
    if isinstance(estimate, Proportion) and estimate.trials:
        p = estimate.successes / estimate.trials
        binomial = p * (1 - p) / estimate.trials
        design = _design_of(estimate)
        if design is None:
            return binomial, math.inf
        return design.design_effect * binomial, float(design.clusters - 1)
    return None


def design_text(estimate: Estimate) -> str:
    """The design effect of a clustered estimate, for the methodology ("" when unclustered
    or with fewer than two clusters)."""
    if isinstance(estimate, ClusteredProportion):
        proportion = estimate.design()
        if proportion is None:
            return ""
        effect, clusters = proportion.design_effect, proportion.clusters
    elif isinstance(estimate, ClusteredMean):
        mean = estimate.design()
        if mean is None:
            return ""
        effect, clusters = mean.design_effect, mean.clusters
    else:
        return ""
    return f" (design effect {decimal(effect, 2)}, {count_text(clusters)} clusters)"
