"""Intervals and tests for a proportion of audits grouped in clusters (reviews of the same agent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from reportgen.stats.intervals import normal_quantile, wilson_interval


# --- clustered proportions -----------------------------------------------------------------
# statsmodels has cluster-robust variances for model coefficients but no interval for a
# clustered proportion from per-cluster sums; the ratio-estimator sandwich variance and the
# Korn & Graubard (1998) effective-sample-size Wilson interval are the survey-sampling
# textbook forms (Korn & Graubard, Survey Methodology 24(2)).
@dataclass(frozen=True)
class ClusterDesign:
    """A proportion's design effect from per-cluster sums (audits grouped by agent)."""

    clusters: int
    design_effect: float  # cluster-robust variance / binomial variance, at least 1
    effective_n: float  # n / design effect, further scaled for the clusters' degrees of freedom


def cluster_design(successes: Sequence[float], trials: Sequence[float],
                   level: float = 0.95) -> ClusterDesign | None:
    """Design effect and effective n of ``sum(successes) / sum(trials)`` over clusters.

    The variance is the cluster-robust (sandwich) one of a ratio estimator,
    ``G / (G - 1) x sum((y_g - p m_g)^2) / n^2``; the design effect is never taken below 1
    (a sample cannot be more informative than independent audits), so an all-pass sample
    still gets a Wilson interval of positive width.  The effective n is scaled by
    ``(z / t_{G-1})^2`` so the interval reflects that only G clusters estimate the variance.
    None with fewer than two clusters.
    """
    y, m = np.asarray(successes, float), np.asarray(trials, float)
    keep = m > 0
    y, m = y[keep], m[keep]
    clusters, n = len(m), float(m.sum())
    if clusters < 2 or n == 0:
        return None
    p = float(y.sum()) / n
    robust = clusters / (clusters - 1) * float(((y - p * m) ** 2).sum()) / n**2
    binomial = p * (1 - p) / n
    design_effect = max(1.0, robust / binomial) if binomial > 0 else 1.0
    df_scale = (normal_quantile(level) / float(sps.t.ppf(0.5 + level / 2, clusters - 1))) ** 2
    return ClusterDesign(clusters, design_effect, n / design_effect * df_scale)


def clustered_wilson_interval(successes: Sequence[float], trials: Sequence[float],
                              level: float = 0.95) -> tuple[float, float] | None:
    """Wilson interval on the effective sample size of a clustered proportion (Korn & Graubard)."""
    design = cluster_design(successes, trials, level)
    if design is None:
        return None
    p = float(np.sum(successes)) / float(np.sum(trials))
    return wilson_interval(p * design.effective_n, design.effective_n, level)


def clustered_proportion_ztest(p_a: float, n_a: float, deff_a: float, p_b: float, n_b: float,
                               deff_b: float) -> tuple[float, float]:
    """Pooled two-proportion z-test with each sample's variance inflated by its design
    effect (Rao & Scott's first-order correction); returns (z, two-sided p)."""
    if n_a == 0 or n_b == 0:
        return math.nan, math.nan
    pooled = (p_a * n_a + p_b * n_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (deff_a / n_a + deff_b / n_b)
    if variance <= 0:
        return 0.0, 1.0
    z = (p_a - p_b) / math.sqrt(variance)
    return float(z), float(2 * sps.norm.sf(abs(z)))
