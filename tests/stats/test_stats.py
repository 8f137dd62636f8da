"""The statistics wrappers against published values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from reportgen.stats import agreement, control_limits, intervals, significance
from reportgen.stats import net_score as nps

# Shrout & Fleiss (1979), Table 2: six targets rated by four judges.
SHROUT_FLEISS = np.array([
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
])
# McGraw & Wong (1996), Table 6: ten targets, two raters.
MCGRAW_WONG = np.array([
    [103, 119], [82, 65], [116, 106], [102, 102], [99, 105],
    [98, 100], [104, 107], [62, 85], [97, 101], [107, 110],
])
# Wikipedia, "Fleiss' kappa", worked example: 10 subjects x 5 categories, 14 raters each.
FLEISS_WIKIPEDIA = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])


def krippendorff_wikipedia() -> np.ndarray:
    """Wikipedia, "Krippendorff's alpha": three coders, fifteen units, '.' = missing."""
    rows = [
        ". . . . . 3 4 1 2 1 1 3 3 . 3",
        "1 . 2 1 3 3 4 3 . . . . . . .",
        ". . 2 1 3 4 4 . 2 1 1 3 3 . 4",
    ]
    return np.array([[np.nan if v == "." else float(v) for v in row.split()] for row in rows])


def test_wilson_interval_for_6_of_32() -> None:
    low, high = intervals.wilson_interval(6, 32, 0.95)
    assert low == pytest.approx(0.088895, abs=1e-6)
    assert high == pytest.approx(0.353092, abs=1e-6)


def test_two_proportion_ztest() -> None:
    z, p = significance.two_proportion_ztest(5, 83, 12, 99)
    assert z == pytest.approx(-1.4078, abs=1e-4)
    assert p == pytest.approx(0.1592, abs=1e-4)


def test_two_proportion_ztest_without_variation_is_no_evidence() -> None:
    assert significance.two_proportion_ztest(0, 40, 0, 50) == (0.0, 1.0)
    assert all(math.isnan(v) for v in significance.two_proportion_ztest(3, 0, 1, 10))


@pytest.mark.parametrize(("table", "weights", "expected"), [
    ([[0, 4, 1], [0, 8, 0], [0, 1, 5]], "none", 0.4842),
    ([[0, 4, 1], [0, 8, 0], [0, 1, 5]], "linear", 0.4701),
    ([[20, 5], [10, 15]], "none", 0.40),
])
def test_cohens_kappa(table: list[list[int]], weights: agreement.KappaWeights, expected: float) -> None:
    kappa, se = agreement.cohens_kappa(np.array(table), weights)
    assert kappa == pytest.approx(expected, abs=1e-4)
    assert se > 0


def test_weighted_kappa_follows_the_values_of_the_levels() -> None:
    # Levels 1, 2, 4: a 1-vs-4 disagreement weighs 3/3, a 1-vs-2 only 1/3.
    table = np.array([[5, 2, 1], [1, 6, 1], [0, 1, 7]])
    by_value, _ = agreement.cohens_kappa(table, "linear", [1, 2, 4])
    by_position, _ = agreement.cohens_kappa(table, "linear")
    assert by_value != pytest.approx(by_position)


def test_krippendorff_alpha_wikipedia_example() -> None:
    data = krippendorff_wikipedia()
    assert agreement.krippendorff_alpha(data, "nominal") == pytest.approx(0.691358, abs=1e-6)
    assert agreement.krippendorff_alpha(data, "interval") == pytest.approx(0.810845, abs=1e-6)


def test_fleiss_kappa_wikipedia_example() -> None:
    assert agreement.fleiss_kappa(FLEISS_WIKIPEDIA) == pytest.approx(0.210, abs=5e-4)


@pytest.mark.parametrize(("form", "published"), [
    ("ICC1", 0.17), ("ICC2", 0.29), ("ICC3", 0.71),
    ("ICC1k", 0.44), ("ICC2k", 0.62), ("ICC3k", 0.91),
])
def test_icc_shrout_fleiss_table(form: agreement.IccForm, published: float) -> None:
    assert agreement.icc(SHROUT_FLEISS, form).value == pytest.approx(published, abs=0.005)


@pytest.mark.parametrize(("form", "value", "low", "high", "f"), [
    # psych::ICC() on McGraw & Wong's Table 6, as printed by R.
    ("ICC1", 0.722, 0.241, 0.922, 6.18), ("ICC2", 0.720, 0.228, 0.922, 6.00),
    ("ICC3", 0.714, 0.197, 0.920, 6.00), ("ICC1k", 0.838, 0.389, 0.959, 6.18),
    ("ICC2k", 0.837, 0.371, 0.959, 6.00), ("ICC3k", 0.833, 0.329, 0.959, 6.00),
])
def test_icc_intervals_match_psych(form: agreement.IccForm, value: float, low: float, high: float,
                                   f: float) -> None:
    result = agreement.icc(MCGRAW_WONG, form, 0.95)
    assert result.value == pytest.approx(value, abs=5e-4)
    assert result.low == pytest.approx(low, abs=5e-4)
    assert result.high == pytest.approx(high, abs=5e-4)
    assert result.f == pytest.approx(f, abs=5e-3)


def test_icc_f_test_shrout_fleiss() -> None:
    result = agreement.icc(SHROUT_FLEISS, "ICC3")
    assert (result.df1, result.df2) == (5, 15)
    assert result.f == pytest.approx(11.03, abs=0.01)


def test_p_chart_limits_constant_subgroups() -> None:
    defectives = np.zeros(20)
    defectives[:17] = 6
    defectives[17:] = 5  # 17 x 6 + 3 x 5 = 117
    assert defectives.sum() == 117
    center, ucl, lcl = control_limits.p_chart_limits(defectives, np.full(20, 100))
    assert center == pytest.approx(0.0585, abs=1e-4)
    assert ucl == pytest.approx(np.full(20, 0.1289), abs=1e-4)
    assert (lcl == 0).all()


def test_p_chart_limits_widen_for_small_subgroups() -> None:
    _, ucl, _ = control_limits.p_chart_limits(np.array([10, 2]), np.array([200, 20]))
    assert ucl[1] > ucl[0]


def test_sample_size() -> None:
    assert intervals.sample_size(0.05, 0.95, 0.5) == 385
    assert intervals.sample_size(0.05, 0.95, 0.5, population=2000) == 323


def test_margin_of_error_is_the_inverse_of_the_sample_size() -> None:
    assert intervals.margin_of_error(385) == pytest.approx(0.0499, abs=1e-4)
    assert intervals.margin_of_error(323, population=2000) == pytest.approx(0.05, abs=5e-4)
    assert intervals.margin_of_error(2000, population=2000) == 0
    assert intervals.margin_of_error(0) is None


def test_mean_sample_size_and_its_margin() -> None:
    # (z sd / h)^2 = (1.96 x 10 / 2)^2 = 96.04 -> 97; of 500 values, 96.04 / (1 + 95.04 / 500)
    # = 80.7 -> 81 (Cochran's correction, as for rates)
    assert intervals.mean_sample_size(2, 10) == 97
    assert intervals.mean_sample_size(2, 10, population=500) == 81
    z = sps.norm.ppf(0.975)
    assert intervals.mean_margin_of_error(97, 10) == pytest.approx(z * 10 / math.sqrt(97))
    assert intervals.mean_margin_of_error(81, 10, population=500) == pytest.approx(2, abs=0.01)
    assert intervals.mean_margin_of_error(0, 10) is None


def test_net_score_and_its_variance() -> None:
    value, variance = nps.net_score(30, 20, 100)
    assert value == pytest.approx(10.0)
    # Var(p+ - p-) = (0.3 + 0.2 - 0.1^2) / 100, in points^2
    assert variance == pytest.approx((0.5 - 0.01) / 100 * 10_000)
    method, z, p = nps.net_score_test((30, 50, 20), (30, 50, 20))
    assert method == "pooled z-test"
    assert (z, p) == (0.0, 1.0)


def test_quantile_test_is_moods_median_test_at_the_median() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.exponential(10, 80), rng.exponential(14, 90)
    chi2, p = significance.quantile_test(a, b, 0.5)
    expected = sps.median_test(a, b)
    assert chi2 == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue)


def test_quantile_interval_is_made_of_order_statistics() -> None:
    values = np.arange(1.0, 101.0)
    low, high = intervals.quantile_interval(values, 0.5, 0.95)  # type: ignore[misc]
    # Ranks 40 and 61 of 100 cover the median with >= 95% (binomial, p = 0.5).
    assert (low, high) == (40.0, 61.0)
    coverage = sps.binom.cdf(60, 100, 0.5) - sps.binom.cdf(39, 100, 0.5)
    assert coverage >= 0.95
    assert intervals.quantile_interval(np.arange(5.0), 0.9) is None  # too few for a P90 interval


def test_t_interval_and_welch() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    low, high = intervals.t_interval(values, 0.95)
    half = sps.t.ppf(0.975, 4) * np.std(values, ddof=1) / np.sqrt(5)
    assert (low, high) == pytest.approx((3 - half, 3 + half))
    t, p = significance.welch_ttest(values, values + 1)
    assert p == pytest.approx(sps.ttest_ind(values, values + 1, equal_var=False).pvalue)
    assert t < 0
