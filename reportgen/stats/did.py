"""Difference-in-differences of four cell estimates: (treated after - before) - (control
after - before).

Why the variance sum rather than a regression: a report holds each cell's estimate and the
variance of that estimate (binomial, s^2 / n, or cluster-robust when the metric declares a
cluster), not the rows.  The four cells are disjoint sets of rows, so the variance of the
difference of differences is the sum of the four variances; that is exactly the variance
statsmodels gives the interaction coefficient of the saturated regression
``y ~ treated * after`` with cell-wise heteroskedasticity-robust errors, without
re-reading the rows.  When a cell's variance is estimated from few units (a mean from few
reviews, a clustered cell from few agents), the reference distribution is Student t with
Welch-Satterthwaite degrees of freedom; from proportions of independent rows, the normal.

The same agents usually appear before and after; their positive correlation makes the
true variance smaller than the sum, so the interval errs on the wide side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps


@dataclass(frozen=True)
class Cell:
    """One cell's estimate, the variance of that estimate and its degrees of freedom
    (``math.inf`` when the variance is known from the estimate itself, as a binomial's)."""

    value: float
    variance: float
    df: float = math.inf


@dataclass(frozen=True)
class DidResult:
    """A difference-in-differences estimate with its standard error, interval and test."""

    estimate: float
    treated_change: float
    control_change: float
    se: float
    df: float
    p_value: float

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        half = _critical(level, self.df) * self.se
        return self.estimate - half, self.estimate + half


def _critical(level: float, df: float) -> float:
    if math.isinf(df):
        return float(sps.norm.ppf(0.5 + level / 2))
    return float(sps.t.ppf(0.5 + level / 2, df))


def welch_satterthwaite(variances: Sequence[float], dfs: Sequence[float]) -> float:
    """Degrees of freedom of a sum of independent variance estimates (inf if all are known)."""
    finite = [(v, d) for v, d in zip(variances, dfs, strict=True) if math.isfinite(d) and v > 0]
    if not finite:
        return math.inf
    total = sum(variances)
    spread = sum(v**2 / max(d, 1.0) for v, d in finite)
    return total**2 / spread if spread > 0 else math.inf


def difference_in_differences(treated_before: Cell, treated_after: Cell,
                              control_before: Cell, control_after: Cell) -> DidResult | None:
    """The DiD estimate of the four cells; None when its variance is zero (every cell at a
    boundary, such as all-pass rates), where no interval can be given."""
    cells = (treated_before, treated_after, control_before, control_after)
    treated = treated_after.value - treated_before.value
    control = control_after.value - control_before.value
    estimate = treated - control
    variance = sum(c.variance for c in cells)
    if not variance > 0 or not math.isfinite(variance):
        return None
    se = math.sqrt(variance)
    df = welch_satterthwaite([c.variance for c in cells], [c.df for c in cells])
    statistic = estimate / se
    p = 2 * (sps.norm.sf(abs(statistic)) if math.isinf(df) else sps.t.sf(abs(statistic), df))
    return DidResult(estimate, treated, control, se, df, float(p))
