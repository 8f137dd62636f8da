"""Significance tests of a change (two proportions, two means, two quantiles) and Holm's
adjustment for testing many at once.

Thin wrappers over statsmodels and scipy; each names the method it uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps
from statsmodels.stats.proportion import proportions_ztest


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


def difference_ztest(estimate_a: float, se_a: float, estimate_b: float,
                     se_b: float) -> tuple[float, float]:
    """Wald z-test of a - b for two estimates from independent samples, each with its
    asymptotic standard error (two agreement coefficients of different periods); returns
    (z, two-sided p).  Written out: the libraries test differences of means and shares only,
    and the variance of a difference of independent estimates is the sum of theirs."""
    values = (estimate_a, se_a, estimate_b, se_b)
    if not all(math.isfinite(v) for v in values):
        return math.nan, math.nan
    se = math.sqrt(se_a**2 + se_b**2)
    if se == 0:
        return (0.0, 1.0) if estimate_a == estimate_b else (math.inf, 0.0)
    z = (estimate_a - estimate_b) / se
    return float(z), float(2 * sps.norm.sf(abs(z)))


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
    return quantile_test_of_counts(int(np.sum(a > cut)), int(np.sum(a <= cut)),
                                   int(np.sum(b > cut)), int(np.sum(b <= cut)))


def quantile_test_of_counts(a_above: int, a_below: int, b_above: int,
                            b_below: int) -> tuple[float, float]:
    """Mood's quantile test from its 2x2 table: each sample's counts above and at-or-below
    the pooled quantile (what ``quantile_test`` counts; a database can count them too)."""
    if not a_above + a_below or not b_above + b_below:
        return math.nan, math.nan
    table = np.array([[a_above, b_above], [a_below, b_below]])
    if (table.sum(axis=1) == 0).any():  # every value on one side of the cut: nothing to test
        return 0.0, 1.0
    chi2, p, _, _ = sps.chi2_contingency(table, correction=True)
    return float(chi2), float(p)


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


def holm_rejections(p_values: Sequence[float | None],
                    alpha: float) -> tuple[list[float], list[bool]]:
    """Holm-adjusted p-values (a missing one reads 1.0) and which are rejected at ``alpha``,
    as statsmodels' ``multipletests(method="holm")`` returns them."""
    adjusted = [1.0 if p is None else p for p in holm(p_values)]
    return adjusted, [p <= alpha for p in adjusted]
