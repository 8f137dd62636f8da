"""Agreement between raters: Cohen's and Fleiss' kappa, Krippendorff's alpha, Gwet's AC1/AC2,
the intraclass correlation family, and the bootstrap that gives intervals to those without an
analytic standard error.

Wrappers over statsmodels and krippendorff where they compute the statistic; Gwet's
coefficients and the ICC family are written out here (no library has them) and tested against
published values.
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

from reportgen.stats.intervals import normal_quantile

KappaWeights = Literal["none", "linear", "quadratic"]


AlphaLevel = Literal["nominal", "ordinal", "interval", "ratio"]


IccForm = Literal["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]


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
    half = normal_quantile(level) * se
    return max(-1.0, kappa - half), min(1.0, kappa + half)


def two_rater_interval(value: float, se: float, units: int,
                       level: float = 0.95) -> tuple[float, float] | None:
    """Interval of a two-rater coefficient (kappa, AC1) from its contingency-table standard
    error: Student t on ``units`` - 1 degrees of freedom, clipped to [-1, 1], as irrCAC's
    ``kappa2.table`` and ``gwet.ac1.table`` print it (cont3x3abstractors: kappa "(0.68,0.913)",
    AC1 "(0.764,0.935)")."""
    if not (math.isfinite(value) and math.isfinite(se)) or units < 2:
        return None
    half = float(sps.t.ppf(0.5 + level / 2, units - 1)) * se
    return max(-1.0, value - half), min(1.0, value + half)


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

    @property
    def table_se(self) -> float:
        """The standard error in the two-rater contingency-table form (irrCAC's
        ``gwet.ac1.table``), whose variance divides by n^2 where the raw-data form divides by
        n(n - 1): the same coefficient, the convention kappa's asymptotic SE follows."""
        n = max(self.rated, self.units)
        return self.se * math.sqrt((n - 1) / n) if n > 1 else math.nan

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
