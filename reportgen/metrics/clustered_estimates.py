"""Rates and means of audits grouped in clusters (reviews of the same agent), with intervals
and tests that allow for the grouping; the sampling variance and design-effect text every
rate and mean reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportgen._lazy import lazy
from reportgen.metrics.estimates import Estimate, Mean, Proportion, change_between
from reportgen.report.model.metric_results import Change, Interval
from reportgen.text.number import count as count_text
from reportgen.text.number import decimal

if TYPE_CHECKING:
    from reportgen.stats import clustered, clustered_proportions
else:
    clustered_proportions = lazy("reportgen.stats.clustered_proportions")
    clustered = lazy("reportgen.stats.clustered")


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
            return change_between(self, previous, None, None, None, alpha)
        now, before = self.design(), _design_of(previous)
        z, p = clustered_proportions.clustered_proportion_ztest(
            self.successes / self.trials, self.trials, now.design_effect if now else 1.0,
            previous.successes / previous.trials, previous.trials,
            before.design_effect if before else 1.0)
        # one agent's own audits (a breakdown by agent) have no design effect to allow for
        name = self.test_name if now or before else Proportion.test_name
        return change_between(self, previous, name, z, p, alpha)


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
            return change_between(self, previous, None, None, None, alpha)
        now, before = _mean_variance(self), _mean_variance(previous)
        # one agent's own audits (a breakdown by agent) have no design effect to allow for
        name = (self.test_name if self.design() is not None or isinstance(previous, ClusteredMean)
                and previous.design() is not None else Mean.test_name)
        if now is None or before is None:
            return change_between(self, previous, name, None, None, alpha)
        t, p = clustered.clustered_mean_ttest(self.mean, *now, previous.mean, *before)
        return change_between(self, previous, name, t, p, alpha)


def _mean_variance(estimate: Mean) -> tuple[float, float] | None:
    """(variance of the mean, its degrees of freedom): clustered when the estimate is."""
    design = estimate.design() if isinstance(estimate, ClusteredMean) else None
    if design is not None:
        return design.variance, float(design.df)
    if estimate.count < 2 or estimate.variance is None:
        return None
    return estimate.variance / estimate.count, float(estimate.count - 1)


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
