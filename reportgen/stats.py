"""Thin wrappers over statsmodels, scipy and krippendorff: intervals, tests and agreement.

Each wrapper names the method it uses so the methodology appendix can cite it.  No
statistic is hand-rolled where a library provides it; the few that are (net score
variance, the ICC family, p-chart limits, the finite-population correction) say why and
are tested against published values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
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
    low, high = float(ci.low), float(ci.high)
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


def net_score_interval(value: float, variance: float, level: float = 0.95) -> tuple[float, float]:
    """Normal (Wald) interval for a net score, clipped to -100..100."""
    half = _z(level) * math.sqrt(variance)
    return max(-100.0, value - half), min(100.0, value + half)


def net_score_ztest(value_a: float, variance_a: float, value_b: float,
                    variance_b: float) -> tuple[float, float]:
    """Unpooled z-test of two independent net scores; returns (z, two-sided p)."""
    se = math.sqrt(variance_a + variance_b)
    if se == 0:
        return (0.0, 1.0) if value_a == value_b else (math.inf, 0.0)
    z = (value_a - value_b) / se
    return z, float(2 * sps.norm.sf(abs(z)))


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
                       value_domain: Sequence[float] | None = None) -> float:
    """Krippendorff's alpha of a raters x units matrix; NaN marks a missing rating."""
    return float(krippendorff.alpha(reliability_data=np.asarray(reliability, float),
                                    level_of_measurement=level, value_domain=value_domain))


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
