"""Intervals and tests for means of audits grouped in clusters (reviews of the same agent).

statsmodels gives the cluster-robust variance of a regression coefficient from the rows
(``OLS(y, 1).fit(cov_type="cluster")``); a report holds only each cluster's count, sum and
sum of squares, so the same sandwich form is computed here from those sums (it equals
statsmodels' to rounding, see tests/test_stats_clustered_means.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class ClusteredMeanDesign:
    """The variance of a mean over clusters: ``sum(y) / n`` with audits grouped by agent."""

    clusters: int
    mean: float
    variance: float  # cluster-robust variance of the mean, never below the iid s^2 / n
    design_effect: float  # that variance over s^2 / n, at least 1

    @property
    def df(self) -> int:
        """Degrees of freedom of the t reference: only G clusters estimate the variance."""
        return self.clusters - 1


def clustered_mean_design(counts: Sequence[float], sums: Sequence[float],
                          sums_of_squares: Sequence[float]) -> ClusteredMeanDesign | None:
    """Cluster-robust variance of the overall mean from per-cluster (n_g, sum_g, sumsq_g).

    The variance is the sandwich one of the mean as a ratio estimator,
    ``G / (G - 1) x sum((sum_g - mean n_g)^2) / n^2`` (statsmodels' cluster-robust variance
    of an intercept-only regression, with its small-sample factor G / (G - 1)).  It is
    never taken below the independent-audits variance ``s^2 / n``: a sample cannot be more
    informative than independent audits, and a handful of clusters can by chance give a
    sandwich variance far below it.  None with fewer than two clusters or audits.
    """
    m = np.asarray(counts, float)
    y = np.asarray(sums, float)
    yy = np.asarray(sums_of_squares, float)
    keep = m > 0
    m, y, yy = m[keep], y[keep], yy[keep]
    clusters, n = len(m), float(m.sum())
    if clusters < 2 or n < 2:
        return None
    mean = float(y.sum()) / n
    robust = clusters / (clusters - 1) * float(((y - mean * m) ** 2).sum()) / n**2
    sample_variance = max(float(yy.sum()) - n * mean**2, 0.0) / (n - 1)
    independent = sample_variance / n
    variance = max(robust, independent)
    design_effect = variance / independent if independent > 0 else 1.0
    return ClusteredMeanDesign(clusters, mean, variance, design_effect)


def clustered_t_interval(design: ClusteredMeanDesign,
                         level: float = 0.95) -> tuple[float, float]:
    """t interval on G - 1 degrees of freedom around the mean with the clustered variance."""
    if design.variance <= 0:
        return design.mean, design.mean
    half = float(sps.t.ppf(0.5 + level / 2, design.df)) * math.sqrt(design.variance)
    return design.mean - half, design.mean + half


def clustered_mean_ttest(mean_a: float, variance_a: float, df_a: float, mean_b: float,
                         variance_b: float, df_b: float) -> tuple[float, float]:
    """Welch-type test of two means from their (clustered or iid) variances of the mean and
    each variance's degrees of freedom (Satterthwaite); returns (t, two-sided p)."""
    total = variance_a + variance_b
    if total <= 0:
        return (0.0, 1.0) if mean_a == mean_b else (math.inf, 0.0)
    df = total**2 / (variance_a**2 / max(df_a, 1) + variance_b**2 / max(df_b, 1))
    t = (mean_a - mean_b) / math.sqrt(total)
    return float(t), float(2 * sps.t.sf(abs(t), df))


# --- Cohen's kappa over rating pairs that share a calibrator's rating ------------------------
# Pooling every auditor x calibrator pair of a calibration session gives k pairs per item,
# all sharing the calibrator's one rating (and the item's difficulty): when the calibrator
# slips, all k pairs disagree.  statsmodels' asymptotic SE counts the pairs as independent
# and so is too narrow.  The interval below resamples items, keeping each item's pairs
# together (a cluster bootstrap).  It conditions on the panel: it says how sure we are of
# these auditors' agreement with this calibrator on items like these, not of a population
# of raters; sessions are too few (a handful a month) to resample them instead.
def kappa_pair_units(units: np.ndarray, ratings: np.ndarray, references: np.ndarray,
                     categories: int) -> np.ndarray:
    """Each item's rater x reference table of its pairs (items x q x q): the additive shares
    of the pooled table, for ``stats.bootstrap_interval``.  The inputs are integer codes:
    item index, rating category and reference category of every pair."""
    items = int(np.max(units)) + 1 if len(units) else 0
    flat = (np.asarray(units) * categories + np.asarray(ratings)) * categories + np.asarray(references)
    counts = np.bincount(flat, minlength=items * categories * categories)
    return counts.reshape(items, categories, categories).astype(float)


def kappa_disagreement(levels: Sequence[float] | None, categories: int,
                       weights: str) -> np.ndarray:
    """Disagreement weights of Cohen's kappa as statsmodels defines them: 0/1 unweighted,
    ``|x_i - x_j|`` linear, ``(x_i - x_j)^2`` quadratic (x: the levels' values, or their
    positions)."""
    if weights == "none":
        return 1.0 - np.eye(categories)
    x = np.arange(categories, dtype=float) if levels is None else np.asarray(levels, float)
    distance = np.abs(x[:, None] - x[None, :])
    return distance if weights == "linear" else distance**2


def cohens_kappa_of_totals(tables: np.ndarray, disagreement: np.ndarray) -> np.ndarray:
    """Cohen's (weighted) kappa ``1 - sum(w O) / sum(w E)`` of each q x q table in ``tables``
    (resamples x q x q); NaN where the chance disagreement is zero (one category used)."""
    n = tables.sum(axis=(1, 2))
    rows, cols = tables.sum(axis=2), tables.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = rows[:, :, None] * cols[:, None, :] / n[:, None, None]
        observed_dis = (tables * disagreement).sum(axis=(1, 2))
        expected_dis = (expected * disagreement).sum(axis=(1, 2))
        kappa = 1 - observed_dis / expected_dis
    return np.where(expected_dis > 1e-12 * np.maximum(n, 1), kappa, np.nan)
