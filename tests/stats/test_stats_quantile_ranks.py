"""What a database needs to compute a quantile's interval and test: the ranks of the
interval's order statistics from n alone, and Mood's test from its four counts.

Checked against scipy itself: ``quantile_test(...).confidence_interval`` on samples whose
values are their own ranks, and ``median_test`` on samples split at their pooled median.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from reportgen.stats import intervals, significance


@pytest.mark.parametrize("q", [0.5, 0.9, 0.1, 0.75])
@pytest.mark.parametrize("level", [0.95, 0.9, 0.8])
def test_ranks_are_those_of_scipys_interval(q: float, level: float) -> None:
    for n in [*range(0, 60), 99, 100, 101, 257, 1000, 4099]:
        ranks = intervals.quantile_interval_ranks(n, q, level)
        if n == 0:
            assert ranks is None
            continue
        # a sample whose i-th smallest value is i: scipy's bounds are its ranks
        ci = sps.quantile_test(np.arange(n, dtype=float)[::-1], p=q).confidence_interval(level)
        expected = None if np.isnan(ci.low) or np.isnan(ci.high) else (int(ci.low), int(ci.high))
        assert ranks == expected, (n, q, level)


def test_too_few_values_have_no_ranks() -> None:
    assert intervals.quantile_interval_ranks(1, 0.5) is None
    assert intervals.quantile_interval_ranks(5, 0.9) is None
    assert intervals.quantile_interval_ranks(6, 0.5) == (0, 5)


def test_moods_test_from_counts_is_scipys_median_test() -> None:
    rng = np.random.default_rng(5)
    for size_a, size_b in [(80, 90), (7, 12), (3, 40)]:
        a = np.round(rng.exponential(10, size_a))  # rounded: ties at the pooled median
        b = np.round(rng.exponential(14, size_b))
        cut = np.median(np.concatenate([a, b]))
        chi2, p = significance.quantile_test_of_counts(
            int((a > cut).sum()), int((a <= cut).sum()), int((b > cut).sum()),
            int((b <= cut).sum()))
        # scipy's ties="below" counts values equal to the median as below, as here
        expected = sps.median_test(a, b, ties="below")
        assert chi2 == pytest.approx(expected.statistic, rel=1e-12)
        assert p == pytest.approx(expected.pvalue, rel=1e-12)


def test_moods_test_without_values_on_one_side_is_no_test() -> None:
    assert np.isnan(significance.quantile_test_of_counts(0, 0, 3, 4)[1])
    assert significance.quantile_test_of_counts(0, 5, 0, 6) == (0.0, 1.0)
