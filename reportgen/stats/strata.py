"""A sample's mix of strata against its population's, and estimates reweighted to the
population's mix (post-stratification).

Pure statistics on counts per stratum and on each stratum's values; no frames.  A *stratum*
is any category the population is split by (a channel, a queue x channel cell); the sample
is a subset of the population, drawn without replacement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from reportgen import text
from reportgen.stats.intervals import wilson_interval

#: Below this expected count in a cell the chi-square reference is not trusted (Cochran's
#: rule), and the p-value comes from draws of the exact null distribution instead.
MIN_EXPECTED = 5.0
#: Draws of the exact null, and their fixed seed: the same data give the same p-value.
DRAWS = 9_999
SEED = 20261201


@dataclass(frozen=True)
class MixTest:
    """Whether a sample's counts per stratum could come from a simple random sample."""

    statistic: float  # Pearson's chi-square of the strata x (in the sample, not) table
    df: int
    p_value: float
    method: str  # "Pearson chi-square", or with a Monte Carlo p-value


def mix_test(sampled: npt.ArrayLike, totals: npt.ArrayLike) -> MixTest | None:
    """Whether ``sampled[h]`` items of each stratum's ``totals[h]`` could be a simple random
    sample, without replacement, of the totals.

    Pearson's chi-square of the strata x (sampled, not sampled) table (scipy's
    ``chi2_contingency``, no continuity correction).  It equals the goodness-of-fit statistic
    of the sampled counts against the population's shares times N / (N - n): the
    finite-population correction of a sample drawn without replacement, whose counts are
    multivariate hypergeometric.  When a cell expects fewer than ``MIN_EXPECTED`` items, the
    p-value is the share of ``DRAWS`` seeded multivariate hypergeometric samples whose
    statistic is at least as large (numpy), a Monte Carlo estimate of the exact test's.
    None when there is nothing to test: fewer than two strata with items, nothing sampled, or
    everything sampled.
    """
    drawn, total = np.asarray(sampled, float), np.asarray(totals, float)
    keep = total > 0
    drawn, total = drawn[keep], total[keep]
    n, population = float(drawn.sum()), float(total.sum())
    if len(total) < 2 or n == 0 or n >= population:
        return None
    table = np.column_stack([drawn, total - drawn])
    result = sps.chi2_contingency(table, correction=False)
    statistic, df = float(result.statistic), int(result.dof)
    if float(np.min(result.expected_freq)) >= MIN_EXPECTED:
        return MixTest(statistic, df, float(result.pvalue), "Pearson chi-square")
    rng = np.random.default_rng(SEED)
    draws = rng.multivariate_hypergeometric(total.astype(np.int64), int(n), size=DRAWS)
    expected_in, expected_out = n * total / population, (population - n) * total / population
    null = ((draws - expected_in) ** 2 * (1 / expected_in + 1 / expected_out)).sum(axis=1)
    # a draw ties the observed table when its statistic equals it up to rounding
    exceed = int(np.count_nonzero(null >= statistic * (1 - 1e-9)))
    return MixTest(statistic, df, (1 + exceed) / (DRAWS + 1),
                   f"Pearson chi-square, Monte Carlo p-value ({text.count(DRAWS)} draws)")


def stratum_tests(sampled: npt.ArrayLike, totals: npt.ArrayLike) -> list[float | None]:
    """Each stratum's two-sided p-value that its share of the sample is its share of the
    population: Fisher's exact test of (in the stratum, not) x (sampled, not sampled), which
    is the hypergeometric law of a simple random sample (scipy).  None for an empty stratum."""
    drawn, total = np.asarray(sampled, float), np.asarray(totals, float)
    n, population = int(drawn.sum()), int(total.sum())
    out: list[float | None] = []
    for d, t in zip(drawn.astype(int), total.astype(int), strict=True):
        if t == 0 or n == 0 or n >= population:
            out.append(None)
            continue
        table = np.array([[d, n - d], [t - d, (population - n) - (t - d)]])
        out.append(float(sps.fisher_exact(table).pvalue))
    return out


# --- post-stratification -------------------------------------------------------------------
# statsmodels has no survey estimators; the post-stratified mean and its variance conditional
# on the sample's counts are the textbook forms (Cochran 1977, 5A.9; Lohr 2019, 4.4), and the
# Satterthwaite degrees of freedom those of a sum of independent variance estimates.
@dataclass(frozen=True)
class Stratified:
    """A mean (or rate) reweighted to the population's shares of the strata."""

    value: float
    variance: float
    n: int  # values behind it
    df: float | None  # Satterthwaite degrees of freedom; None when the variance is 0
    census: bool  # every stratum was observed in full: no sampling error


def post_stratified(values: Sequence[npt.ArrayLike], sizes: npt.ArrayLike) -> Stratified | None:
    """sum_h W_h ybar_h with W_h = N_h / sum N_h (``sizes``: the strata's population counts),
    and its variance sum_h W_h^2 (1 - n_h / N_h) s_h^2 / n_h, the finite-population
    correction (1 - n_h / N_h) included.  Every stratum needs at least two values (the caller
    leaves out, and names, the others); None without any stratum."""
    groups = [np.asarray(v, float) for v in values]
    sized = np.asarray(sizes, float)
    if not groups or any(len(g) < 2 for g in groups) or sized.sum() <= 0:
        return None
    weights = sized / sized.sum()
    counts = np.array([len(g) for g in groups], float)
    means = np.array([g.mean() for g in groups])
    variances = np.array([g.var(ddof=1) for g in groups])
    kept = np.clip(1 - counts / sized, 0.0, 1.0)
    parts = weights**2 * kept * variances / counts
    variance = float(parts.sum())
    df = None
    if variance > 0:
        df = variance**2 / float((parts**2 / (counts - 1)).sum())
    return Stratified(float((weights * means).sum()), variance, int(counts.sum()), df,
                      bool((kept == 0).all()))


def rate_interval(estimate: Stratified, level: float = 0.95) -> tuple[float, float]:
    """Wilson's interval for a reweighted rate on its effective sample size p(1 - p) / V
    (as for clustered rates); with no variance, Wilson's on the values themselves (a rate of
    0 or 1 in every stratum), or the value itself for a census."""
    p = estimate.value
    if estimate.census:
        return p, p
    if estimate.variance > 0 and 0 < p < 1:
        effective = p * (1 - p) / estimate.variance
    else:
        effective = float(estimate.n)
    return wilson_interval(p * effective, effective, level)


def mean_interval(estimate: Stratified, level: float = 0.95) -> tuple[float, float]:
    """Student t interval of a reweighted mean on its Satterthwaite degrees of freedom (the
    value itself when there is no variance)."""
    if estimate.df is None or estimate.variance <= 0:
        return estimate.value, estimate.value
    half = float(sps.t.ppf(0.5 + level / 2, estimate.df)) * math.sqrt(estimate.variance)
    return estimate.value - half, estimate.value + half
