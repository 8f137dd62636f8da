"""Confidence intervals for proportions, means and quantiles, and the sample size they need.

Thin wrappers over statsmodels and scipy; each names the method it uses so the methodology
appendix can cite it.  The finite-population correction is the one formula written out here.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint, samplesize_confint_proportion


def normal_quantile(level: float) -> float:
    """The two-sided normal critical value for a confidence ``level`` (1.96 at 0.95)."""
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


def quantile_interval_ranks(n: int, q: float, level: float = 0.95) -> tuple[int, int] | None:
    """The 0-based ranks, in the sorted sample of ``n`` values, of the two order statistics
    ``quantile_interval`` returns; None when either falls outside the sample.

    They depend on n, q and the level only, so a database can fetch just those two values.
    The ranks are scipy's own: ``QuantileTestResult.confidence_interval`` (two-sided) takes
    ``x[int(binom(n, q).ppf(a)) - 1]`` and ``x[int(binom(n, q).isf(a))]``, a = (1 - level) / 2.
    """
    if n <= 0:
        return None
    tail = (1 - level) / 2
    distribution = sps.binom(n, q)
    low, high = int(distribution.ppf(tail)) - 1, int(distribution.isf(tail))
    if low < 0 or high >= n:
        return None
    return low, high


# --- sampling ------------------------------------------------------------------------------
def sample_size(margin: float, level: float = 0.95, proportion: float = 0.5,
                population: int | None = None) -> int:
    """Reviews needed to estimate a proportion within +-``margin`` at ``level`` (Cochran).

    The infinite-population size comes from statsmodels; the finite-population correction
    n = n0 / (1 + (n0 - 1) / N) is Cochran's and has no library function.
    """
    n0 = float(samplesize_confint_proportion(proportion, margin, alpha=1 - level))
    return finite_population(n0, population)


def margin_of_error(n: int, level: float = 0.95, proportion: float = 0.5,
                    population: int | None = None) -> float | None:
    """Half-width of the normal interval for a proportion from ``n`` reviews (with FPC)."""
    if n <= 0:
        return None
    margin = normal_quantile(level) * math.sqrt(proportion * (1 - proportion) / n)
    if population is not None and population > 1:
        margin *= math.sqrt(max(population - n, 0) / (population - 1))
    return margin


def finite_population(n0: float, population: int | None) -> int:
    """Cochran's finite-population correction n0 / (1 + (n0 - 1) / N), rounded up."""
    if population is not None and n0 > 0:
        n0 = n0 / (1 + (n0 - 1) / population)
    # Rounding the float first stops 384.0000000001 from becoming 385.
    return int(math.ceil(round(n0, 9)))


def mean_sample_size(margin: float, sd: float, level: float = 0.95,
                     population: int | None = None) -> int:
    """Values needed to estimate a mean within +-``margin`` at ``level``, for a spread ``sd``:
    n0 = (z sd / margin)^2 (Cochran 1977, 4.3), then the finite-population correction.

    statsmodels sizes samples for a proportion's interval and for a test's power, not for
    a mean's interval; the normal formula is Cochran's, as ``sample_size`` is for rates.
    """
    return finite_population((normal_quantile(level) * sd / margin) ** 2, population)


def mean_margin_of_error(n: int, sd: float, level: float = 0.95,
                         population: int | None = None) -> float | None:
    """Half-width of the normal interval for a mean from ``n`` values (with FPC)."""
    if n <= 0:
        return None
    margin = normal_quantile(level) * sd / math.sqrt(n)
    if population is not None and population > 1:
        margin *= math.sqrt(max(population - n, 0) / (population - 1))
    return margin
