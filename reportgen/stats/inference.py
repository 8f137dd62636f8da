"""Thin wrappers over statsmodels, scipy and krippendorff: intervals, tests and agreement.

Each wrapper names the method it uses so the methodology appendix can cite it.  No
statistic is hand-rolled where a library provides it; the few that are (net score
variance, the ICC family, p-chart limits, the finite-population correction) say why and
are tested against published values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps
from statsmodels.stats import inter_rater
from statsmodels.stats.proportion import (
    proportion_confint,
    proportions_ztest,
    samplesize_confint_proportion,
)

KappaWeights = Literal["none", "linear", "quadratic"]
AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]
IccForm = Literal["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]


def _z(level: float) -> float:
    return float(sps.norm.ppf(0.5 + level / 2))


# --- proportions and means -----------------------------------------------------------------
def clopper_pearson_interval(successes: float, trials: float,
                             level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a proportion: each tail holds at most
    ``(1 - level) / 2`` whatever the true rate, where Wilson's tails run over it near 0.85."""
    low, high = proportion_confint(successes, trials, alpha=1 - level, method="beta")
    return float(low), float(high)


def wilson_interval(successes: float, trials: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion."""
    low, high = proportion_confint(successes, trials, alpha=1 - level, method="wilson")
    return float(low), float(high)


def two_proportion_ztest(
    successes_a: float, trials_a: float, successes_b: float, trials_b: float
) -> tuple[float, float]:
    """Pooled two-proportion z-test of a vs b; returns (z, two-sided p)."""
    if trials_a == 0 or trials_b == 0:
        return math.nan, math.nan
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    if pooled in (0.0, 1.0):  # both samples all-failure or all-success: no evidence of change
        return 0.0, 1.0
    z, p = proportions_ztest([successes_a, successes_b], [trials_a, trials_b])
    return float(z), float(p)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student t interval for a mean."""
    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return mean, mean
    sem = float(sps.sem(values))
    if sem == 0:
        return mean, mean
    low, high = sps.t.interval(level, n - 1, loc=mean, scale=sem)
    return float(low), float(high)


def t_interval_from_stats(mean: float, sd: float, n: int,
                          level: float = 0.95) -> tuple[float, float]:
    """Student t interval for a mean from its summary statistics (sample sd, n)."""
    if n < 2 or sd == 0:
        return mean, mean
    low, high = sps.t.interval(level, n - 1, loc=mean, scale=sd / math.sqrt(n))
    return float(low), float(high)


def welch_ttest_from_stats(mean_a: float, sd_a: float | None, n_a: int, mean_b: float,
                           sd_b: float | None, n_b: int) -> tuple[float, float]:
    """Welch's unequal-variance t-test from summary statistics; returns (t, two-sided p)."""
    if n_a < 2 or n_b < 2 or sd_a is None or sd_b is None:
        return math.nan, math.nan
    if sd_a == 0 and sd_b == 0:
        return (0.0, 1.0) if mean_a == mean_b else (math.inf, 0.0)
    result = sps.ttest_ind_from_stats(mean_a, sd_a, n_a, mean_b, sd_b, n_b, equal_var=False)
    return float(result.statistic), float(result.pvalue)


def welch_ttest(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's unequal-variance t-test of a vs b; returns (t, two-sided p)."""
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    if np.var(a) == 0 and np.var(b) == 0:
        return (0.0, 1.0) if np.mean(a) == np.mean(b) else (math.inf, 0.0)
    result = sps.ttest_ind(a, b, equal_var=False)
    return float(result.statistic), float(result.pvalue)


# --- quantiles -----------------------------------------------------------------------------
def quantile_interval(values: np.ndarray, q: float, level: float = 0.95) -> tuple[float, float] | None:
    """Distribution-free interval for the ``q`` quantile from order statistics (binomial).

    None when the sample is too small for the interval to reach the level on both sides.
    """
    if len(values) == 0:
        return None
    ci = sps.quantile_test(np.asarray(values, float), p=q).confidence_interval(level)
    # scipy-stubs type confidence_interval() as a float; it returns a ConfidenceInterval.
    low, high = float(ci.low), float(ci.high)  # type: ignore[attr-defined]
    if math.isnan(low) or math.isnan(high):
        return None
    return low, high


def quantile_test(a: np.ndarray, b: np.ndarray, q: float = 0.5) -> tuple[float, float]:
    """Mood's median test, generalised to quantile ``q``; returns (chi-square, p).

    Both samples are split at the pooled ``q`` quantile and the 2x2 table of counts above
    and at-or-below is tested with Pearson's chi-square (Yates-corrected), exactly as
    ``scipy.stats.median_test`` does for q = 0.5.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan
    cut = float(np.quantile(np.concatenate([a, b]), q))
    table = np.array([[np.sum(a > cut), np.sum(b > cut)],
                      [np.sum(a <= cut), np.sum(b <= cut)]])
    if (table.sum(axis=1) == 0).any():  # every value on one side of the cut: nothing to test
        return 0.0, 1.0
    chi2, p, _, _ = sps.chi2_contingency(table, correction=True)
    return float(chi2), float(p)


# --- net score (NPS) -----------------------------------------------------------------------
# No library computes the net score's variance: it is the variance of a difference of two
# multinomial shares, Var(p+ - p-) = (p+ + p- - (p+ - p-)^2) / n, scaled to points.
def net_score(promoters: float, detractors: float, total: float) -> tuple[float, float]:
    """(net score in points -100..100, its variance in points^2) from counts."""
    share_up, share_down = promoters / total, detractors / total
    value = share_up - share_down
    variance = (share_up + share_down - value**2) / total
    return 100.0 * value, 10_000.0 * variance


#: Pseudo-observations added to each of promoters, passives and detractors by the adjusted
#: interval.  One per category is the multinomial analogue of Agresti & Coull's "add two
#: successes and two failures": it keeps the variance above zero when every answer falls in
#: one category (NPS 100 from 12 promoters) and pulls the centre off the boundary, where the
#: plain normal interval covers the true score far less often than its level says.  The
#: coverage is checked by simulation in tests/test_stats_small_samples.py.
NET_SCORE_PSEUDO = 1.0


def net_score_interval(promoters: float, passives: float, detractors: float,
                       level: float = 0.95) -> tuple[float, float]:
    """Adjusted normal interval for a net score (points), never zero-width.

    The Wald interval is taken around the score of the counts plus ``NET_SCORE_PSEUDO``
    pseudo-answers in each category, with the multinomial variance of those adjusted counts,
    and clipped to -100..100.
    """
    add = NET_SCORE_PSEUDO
    value, variance = net_score(promoters + add, detractors + add,
                                promoters + passives + detractors + 3 * add)
    half = _z(level) * math.sqrt(variance)
    return max(-100.0, value - half), min(100.0, value + half)


#: From this many answers in the smaller period the pooled z-test is used: simulated, it
#: kept its level for every n >= 10 tried (10 and 30 against 300, 30 against 30), and at 30
#: against 30 the exact conditional test, conservative on such discrete data, rejected a
#: true null in only about 1% of samples and had power 0.26 where the z-test had 0.35.
POOLED_NET_SCORE_FROM = 10

NetCounts = tuple[float, float, float]  # promoters, passives, detractors


def net_score_test(a: NetCounts, b: NetCounts) -> tuple[str, float, float]:
    """Test of equal net scores in two independent samples; returns (method, statistic, p).

    Under H0 both samples share one promoter / passive / detractor distribution, estimated
    from the pooled counts.  From ``POOLED_NET_SCORE_FROM`` answers in the smaller sample,
    the pooled-variance z-test.  Below, the test is exact and conditional on the pooled
    counts: every split of the pooled counts between the two samples is weighed by its
    multivariate hypergeometric probability (scipy), and p is the probability of a
    difference of net scores at least as large as the one observed.  The unpooled z-test with each
    sample's own variance is not used: with 10 or 30 answers against 300 it rejected a true
    null three to seven times as often as its alpha (and always when a small sample had only
    promoters, whose variance is zero).
    """
    counts_a, counts_b = np.asarray(a, float), np.asarray(b, float)
    n_a, n_b = counts_a.sum(), counts_b.sum()
    if n_a == 0 or n_b == 0:
        return "", math.nan, math.nan
    pooled = counts_a + counts_b
    diff = ((counts_a[0] - counts_a[2]) / n_a - (counts_b[0] - counts_b[2]) / n_b)
    if min(n_a, n_b) < POOLED_NET_SCORE_FROM and all(float(c).is_integer() for c in pooled):
        small = counts_a if n_a <= n_b else counts_b
        return "exact conditional test", 100.0 * diff, _exact_net_p(small, pooled)
    total = pooled.sum()
    share_up, share_down = pooled[0] / total, pooled[2] / total
    variance = (share_up + share_down - (share_up - share_down) ** 2) * (1 / n_a + 1 / n_b)
    if variance <= 0:  # every answer in one category in both samples: the scores are equal
        return "pooled z-test", 0.0, 1.0
    z = diff / math.sqrt(variance)
    return "pooled z-test", float(z), float(2 * sps.norm.sf(abs(z)))


def _exact_net_p(small: np.ndarray, pooled: np.ndarray) -> float:
    """P(|difference of net scores| >= observed) over the splits of ``pooled`` (exact test)."""
    n = int(small.sum())
    up, mid, down = (int(c) for c in pooled)
    other = up + mid + down - n
    grid_up, grid_down = (g.ravel() for g in np.meshgrid(np.arange(n + 1), np.arange(n + 1),
                                                         indexing="ij"))
    grid_mid = n - grid_up - grid_down
    ok = (grid_mid >= 0) & (grid_up <= up) & (grid_down <= down) & (grid_mid <= mid)
    grid_up, grid_mid, grid_down = grid_up[ok], grid_mid[ok], grid_down[ok]
    weights = sps.multivariate_hypergeom.pmf(np.stack([grid_up, grid_mid, grid_down], axis=1),
                                             m=[up, mid, down], n=n)

    def difference(u: np.ndarray | float, d: np.ndarray | float) -> np.ndarray | float:
        return (u - d) / n - ((up - u) - (down - d)) / other

    observed = abs(float(difference(small[0], small[2])))
    extreme = np.abs(difference(grid_up, grid_down)) >= observed - 1e-12
    return float(min(1.0, np.asarray(weights)[extreme].sum()))


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
    df_scale = (_z(level) / float(sps.t.ppf(0.5 + level / 2, clusters - 1))) ** 2
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


# --- multiplicity --------------------------------------------------------------------------
def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values (Holm 1979); None and NaN entries stay None.

    Hand-written rather than statsmodels' ``multipletests(method="holm")`` (which gives the
    same values, see tests/test_stats_multiplicity.py): that function runs a full
    ``gc.collect()`` on every call, a third of a second in a report process, once per metric.
    """
    present = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(p_values)
    m = len(present)
    running = 0.0
    for rank, i in enumerate(sorted(present, key=lambda i: p_values[i])):  # type: ignore[arg-type,return-value]
        p = p_values[i]
        assert p is not None
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


# --- agreement -----------------------------------------------------------------------------
def cohens_kappa(table: np.ndarray, weights: KappaWeights = "none",
                 levels: Sequence[float] | None = None) -> tuple[float, float]:
    """Cohen's kappa of a square rater-by-rater table; returns (kappa, standard error).

    ``weights``: 'none' (unweighted), 'linear' or 'quadratic' disagreement weights.
    ``levels``: the numeric value of each category, so weighted disagreement follows the
    values (1 vs 4 on a 1-4 scale is maximal even if 2 was never used); by default the
    categories are equally spaced in table order.
    """
    if weights == "none":
        result = inter_rater.cohens_kappa(np.asarray(table, float))
    else:
        positions = None if levels is None else np.asarray(levels, float)
        result = inter_rater.cohens_kappa(np.asarray(table, float), weights=positions, wt=weights)
    return float(result.kappa), float(result.std_kappa)


def kappa_interval(kappa: float, se: float, level: float = 0.95) -> tuple[float, float] | None:
    """Normal interval from kappa's asymptotic standard error."""
    if not math.isfinite(se):
        return None
    half = _z(level) * se
    return max(-1.0, kappa - half), min(1.0, kappa + half)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa of a subjects x categories count table (same number of raters per subject)."""
    return float(inter_rater.fleiss_kappa(np.asarray(counts, float), method="fleiss"))


def krippendorff_alpha(reliability: np.ndarray, level: AlphaLevel = "nominal",
                       value_domain: ArrayLike | None = None) -> float:
    """Krippendorff's alpha of a raters x units matrix; NaN marks a missing rating."""
    return float(krippendorff.alpha(reliability_data=np.asarray(reliability, float),
                                    level_of_measurement=level, value_domain=value_domain))


@dataclass(frozen=True)
class GwetResult:
    """Gwet's AC1 (unweighted) or AC2 (weighted) with its standard error."""

    value: float
    se: float
    agreement: float  # observed (weighted) agreement p_a
    chance: float  # chance agreement p_e
    units: int  # units rated two or more times (those that show agreement)
    rated: int = 0  # every rated unit (the sample the variance is over)

    def interval(self, level: float = 0.95) -> tuple[float, float] | None:
        """t interval on (every rated unit) - 1 degrees of freedom, as Gwet (2014) and
        irrCAC give it (irrCAC's cac.raw4raters: 12 units, 11 rated twice, df 11)."""
        if not math.isfinite(self.se) or self.units < 2:
            return None
        half = float(sps.t.ppf(0.5 + level / 2, max(self.rated, self.units) - 1)) * self.se
        return max(-1.0, self.value - half), min(1.0, self.value + half)


def agreement_weights(levels: Sequence[float], weights: KappaWeights) -> np.ndarray:
    """Gwet's agreement weights (1 on the diagonal): identity, linear or quadratic in the
    levels' values, ``1 - |k - l| / (max - min)`` or ``1 - (k - l)^2 / (max - min)^2``."""
    values = np.asarray(levels, float)
    q = len(values)
    if weights == "none" or q < 2:
        return np.eye(q)
    span = values.max() - values.min()
    distance = np.abs(values[:, None] - values[None, :]) / span
    return 1 - (distance if weights == "linear" else distance**2)


# Neither statsmodels nor scipy implements Gwet's coefficients.  This follows Gwet (2008),
# "Computing inter-rater reliability and its variance in the presence of high agreement",
# BJMSP 61, and the multi-rater form of his Handbook of Inter-Rater Reliability (2014,
# ch. 5), as irrCAC's gwet.ac1.raw computes it, including the linearised variance.
def gwet_ac(counts: np.ndarray, weights: np.ndarray | None = None) -> GwetResult:
    """Gwet's AC1 / AC2 from a units x categories table of rater counts.

    ``counts[i, k]``: raters who put unit i in category k (units may have different numbers
    of raters; units with fewer than two count for chance agreement only).  The columns are
    the scale's categories, used or not: q is the declared scale's size, so a panel that
    puts every unit in one category of a 1-5 scale agrees perfectly (AC1 = 1.0).  ``weights``: a
    q x q agreement-weight matrix (None = identity, AC1).
    """
    r = np.asarray(counts, float)
    n, q = r.shape
    w = np.eye(q) if weights is None else np.asarray(weights, float)
    raters = r.sum(axis=1)
    weighted = r @ w.T  # r*_ik = sum_l w_kl r_il
    pairs = raters * (raters - 1)
    multi = raters >= 2
    units = int(multi.sum())
    if units == 0 or q < 2:
        return GwetResult(math.nan, math.nan, math.nan, math.nan, units)
    agree_i = np.where(multi, (r * (weighted - 1)).sum(axis=1) / np.where(multi, pairs, 1), 0.0)
    p_a = float(agree_i[multi].sum() / units)
    rated = raters > 0
    pi = (r[rated] / raters[rated, None]).sum(axis=0) / n
    t_w = float(w.sum()) / (q * (q - 1))
    p_e = t_w * float((pi * (1 - pi)).sum())
    value = (p_a - p_e) / (1 - p_e)
    ac_i = (n / units) * (agree_i - p_e * multi) / (1 - p_e)
    pe_i = t_w * np.where(rated, (r @ (1 - pi)) / np.where(rated, raters, 1), 0.0)
    ac_i_star = ac_i - 2 * (1 - value) * (pe_i - p_e) / (1 - p_e)
    variance = float(((ac_i_star - value) ** 2).sum()) / (n * (n - 1)) if n > 1 else math.nan
    return GwetResult(float(value), math.sqrt(variance), p_a, p_e, units, int(rated.sum()))


#: Bootstrap resamples for agreement intervals, and the seed that makes a report reproducible.
BOOTSTRAP_RESAMPLES = 999
BOOTSTRAP_SEED = 20_261_202


def bootstrap_interval(per_unit: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray],
                       level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES,
                       seed: int = BOOTSTRAP_SEED) -> tuple[float, float] | None:
    """Percentile bootstrap interval over units, resampled with replacement, seeded so the
    same data give the same interval.

    ``per_unit[i]`` is unit i's additive share of the statistic's totals (its row of a count
    table, its coincidence matrix...). A resample is then only a weighting of the units by
    how often each was drawn, so every resample is one matrix product instead of a pass over
    the rows: ``statistic(totals)`` maps a (resamples x per-unit shape) array of weighted
    totals to one value per resample, NaN where undefined (every rating in one category).
    Those resamples are dropped; None when fewer than half remain or there are fewer than
    two units.  (scipy.stats.bootstrap would refuse the NaN resamples; its percentile method
    is the quantile taken here.)
    """
    units = len(per_unit)
    if units < 2:
        return None
    flat = np.asarray(per_unit, float).reshape(units, -1)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, 4_000_000 // units))  # bounds the weights' memory
    values = []
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        draws = rng.integers(0, units, size=(size, units))
        offsets = (draws + units * np.arange(size)[:, None]).ravel()
        weights = np.bincount(offsets, minlength=size * units).reshape(size, units)
        totals = (weights @ flat).reshape(size, *np.shape(per_unit)[1:])
        values.append(np.asarray(statistic(totals), float))
    every = np.concatenate(values)
    finite = every[np.isfinite(every)]
    if len(finite) < resamples / 2:
        return None
    low, high = np.quantile(finite, [0.5 - level / 2, 0.5 + level / 2])
    return float(low), float(high)


def fleiss_kappa_units(counts: np.ndarray) -> np.ndarray:
    """Each unit's additive share of Fleiss' kappa: 1 (the unit itself), its observed pairwise
    agreement, then its category counts (units x (2 + categories); same raters per unit)."""
    table = np.asarray(counts, float)
    raters = table.sum(axis=1, keepdims=True)
    agreement = ((table**2).sum(axis=1, keepdims=True) - raters) / (raters * (raters - 1))
    return np.hstack([np.ones_like(raters), agreement, table])


def fleiss_kappa_of_totals(totals: np.ndarray) -> np.ndarray:
    """Fleiss' kappa of each row of summed ``fleiss_kappa_units`` (statsmodels' 'fleiss'
    formula); NaN where fewer than two categories were used."""
    units, agreement, by_category = totals[:, 0], totals[:, 1], totals[:, 2:]
    shares = by_category / by_category.sum(axis=1, keepdims=True)
    chance = (shares**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (agreement / units - chance) / (1 - chance)
    return np.where((by_category > 0).sum(axis=1) >= 2, kappa, np.nan)


def krippendorff_units(reliability: np.ndarray, value_domain: ArrayLike) -> np.ndarray:
    """Each unit's coincidence matrix (units x values x values; Krippendorff 2011, the
    matrices the ``krippendorff`` package sums): the additive shares of alpha."""
    data = np.asarray(reliability, float)
    domain = np.asarray(value_domain, float)
    counts = (data.T[:, :, None] == domain[None, None, :]).sum(axis=1).astype(float)
    pairable = np.maximum(counts.sum(axis=1), 2)
    pairs = counts[:, :, None] * counts[:, None, :]
    pairs[:, range(len(domain)), range(len(domain))] -= counts
    return pairs / (pairable - 1)[:, None, None]


def krippendorff_of_totals(coincidences: np.ndarray, level: AlphaLevel,
                           value_domain: ArrayLike) -> np.ndarray:
    """Krippendorff's alpha of each summed coincidence matrix (resamples x V x V), the
    ``krippendorff`` package's formula; NaN where fewer than two values were used."""
    domain = np.asarray(value_domain, float)
    n_v = coincidences.sum(axis=1)  # resamples x V
    n = n_v.sum(axis=1)
    if level == "nominal":
        d = np.broadcast_to(1.0 - np.eye(len(domain)), coincidences.shape)
    elif level == "interval":
        d = np.broadcast_to((domain[:, None] - domain[None, :]) ** 2, coincidences.shape)
    elif level == "ratio":
        total = domain[:, None] + domain[None, :]
        diff = domain[:, None] - domain[None, :]
        ratio = np.divide(diff, total, out=np.zeros_like(total), where=total != 0)
        d = np.broadcast_to(ratio**2, coincidences.shape)
    else:  # ordinal: the values' own frequencies set the distances
        cumulative = np.cumsum(n_v, axis=1)
        low = np.minimum.outer(np.arange(len(domain)), np.arange(len(domain)))
        high = np.maximum.outer(np.arange(len(domain)), np.arange(len(domain)))
        between = cumulative[:, high] - cumulative[:, low] + n_v[:, low]
        d = (between - (n_v[:, :, None] + n_v[:, None, :]) / 2) ** 2
    observed = (coincidences * d).sum(axis=(1, 2))
    expected = ((n_v[:, :, None] * n_v[:, None, :]) * d).sum(axis=(1, 2)) / (n - 1)
    used = (n_v > 0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1 - observed / expected
    return np.where(used >= 2, alpha, np.nan)


@dataclass(frozen=True)
class IccResult:
    """An intraclass correlation with its F test and interval."""

    form: IccForm
    value: float
    f: float
    df1: float
    df2: float
    p_value: float
    low: float
    high: float


# Neither statsmodels nor scipy implements the intraclass correlation family, so the
# Shrout & Fleiss (1979) mean squares are computed here; intervals follow McGraw & Wong
# (1996) with the Satterthwaite approximation for ICC(2,*).  Tested against the published
# 6x4 table of Shrout & Fleiss and against psych::ICC output.
def icc(ratings: np.ndarray, form: IccForm, level: float = 0.95) -> IccResult:
    """Intraclass correlation of a complete targets x raters matrix (Shrout & Fleiss forms)."""
    x = np.asarray(ratings, float)
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    bms = ss_rows / (n - 1)
    wms = (ss_total - ss_rows) / (n * (k - 1))
    jms = ss_cols / (k - 1)
    ems = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    alpha = 1 - level
    average = form.endswith("k")
    if form.startswith("ICC1"):
        df1, df2 = n - 1, n * (k - 1)
        f = bms / wms
        value = (bms - wms) / bms if average else (bms - wms) / (bms + (k - 1) * wms)
    else:
        df1, df2 = n - 1, (n - 1) * (k - 1)
        f = bms / ems
        if form.startswith("ICC3"):
            value = (bms - ems) / bms if average else (bms - ems) / (bms + (k - 1) * ems)
        elif average:
            value = (bms - ems) / (bms + (jms - ems) / n)
        else:
            value = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    p_value = float(sps.f.sf(f, df1, df2))
    if form.startswith("ICC2"):
        low, high = _icc2_bounds(bms, jms, ems, n, k, alpha)
        if average:  # Spearman-Brown step-up of the single-rater bounds
            low, high = k * low / (1 + (k - 1) * low), k * high / (1 + (k - 1) * high)
    else:
        f_low = f / sps.f.ppf(1 - alpha / 2, df1, df2)
        f_high = f * sps.f.ppf(1 - alpha / 2, df2, df1)
        if average:
            low, high = 1 - 1 / f_low, 1 - 1 / f_high
        else:
            low, high = (f_low - 1) / (f_low + k - 1), (f_high - 1) / (f_high + k - 1)
    return IccResult(form, float(value), float(f), float(df1), float(df2), p_value,
                     float(low), float(high))


def _icc2_bounds(bms: float, jms: float, ems: float, n: int, k: int,
                 alpha: float) -> tuple[float, float]:
    """McGraw & Wong (1996) interval for ICC(2,1) with Satterthwaite's degrees of freedom."""
    rho = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    a = k * rho / (n * (1 - rho))
    b = 1 + k * rho * (n - 1) / (n * (1 - rho))
    v = (a * jms + b * ems) ** 2 / ((a * jms) ** 2 / (k - 1) + (b * ems) ** 2 / ((n - 1) * (k - 1)))
    f_star = sps.f.ppf(1 - alpha / 2, n - 1, v)
    f_inv = sps.f.ppf(1 - alpha / 2, v, n - 1)
    low = n * (bms - f_star * ems) / (f_star * (k * jms + (k * n - k - n) * ems) + n * bms)
    high = n * (f_inv * bms - ems) / (k * jms + (k * n - k - n) * ems + n * f_inv * bms)
    return float(low), float(high)


# --- sampling ------------------------------------------------------------------------------
def sample_size(margin: float, level: float = 0.95, proportion: float = 0.5,
                population: int | None = None) -> int:
    """Reviews needed to estimate a proportion within +-``margin`` at ``level`` (Cochran).

    The infinite-population size comes from statsmodels; the finite-population correction
    n = n0 / (1 + (n0 - 1) / N) is Cochran's and has no library function.
    """
    n0 = float(samplesize_confint_proportion(proportion, margin, alpha=1 - level))
    if population is not None:
        n0 = n0 / (1 + (n0 - 1) / population)
    # Rounding the float first stops 384.0000000001 from becoming 385.
    return int(math.ceil(round(n0, 9)))


def margin_of_error(n: int, level: float = 0.95, proportion: float = 0.5,
                    population: int | None = None) -> float | None:
    """Half-width of the normal interval for a proportion from ``n`` reviews (with FPC)."""
    if n <= 0:
        return None
    margin = _z(level) * math.sqrt(proportion * (1 - proportion) / n)
    if population is not None and population > 1:
        margin *= math.sqrt(max(population - n, 0) / (population - 1))
    return margin


# --- control charts ------------------------------------------------------------------------
# statsmodels and scipy have no Shewhart charts; the p-chart limits are the textbook
# p-bar +- 3 sqrt(p-bar (1 - p-bar) / n_i), with the lower limit floored at 0.
def p_chart_limits(defectives: np.ndarray, sizes: np.ndarray,
                   sigmas: float = 3.0) -> tuple[float, np.ndarray, np.ndarray]:
    """(centre line, upper limits, lower limits) of a p-chart with varying subgroup sizes."""
    defectives, sizes = np.asarray(defectives, float), np.asarray(sizes, float)
    center = float(defectives.sum() / sizes.sum())
    spread = sigmas * np.sqrt(center * (1 - center) / sizes)
    return center, np.minimum(center + spread, 1.0), np.maximum(center - spread, 0.0)
