"""Calibration, Trust & Safety and control-chart calculators on the demo data, checked with plain pandas."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm
from test_metrics_demo import PERIOD, Tables, assert_adds_up, compute, load_demo_tables, now

KEYS = ["session_id", "ticket_id"]


@pytest.fixture(scope="session")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    return load_demo_tables(tmp_path_factory)


def reference_pairs(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Each auditor row beside the calibrator's value for the same session and item."""
    calibrator = frame.loc[frame["role"] == "calibrator", [*keys, value]]
    auditors = frame.loc[frame["role"] == "auditor", [*keys, "rater_id", value]]
    return auditors.merge(calibrator, on=keys, suffixes=("", "_ref")).dropna(
        subset=[value, f"{value}_ref"])


def test_calibration_deviation_per_auditor(demo_tables: Tables) -> None:
    reviews = demo_tables("calibration_reviews")
    pairs = reference_pairs(now(reviews), KEYS, "review_score")
    deviation = pairs["review_score"] - pairs["review_score_ref"]
    result = compute("calibration_deviation", reviews, params={"tolerance": 5})
    assert result.value == pytest.approx(deviation.abs().mean())
    assert result.n == len(pairs)
    assert result.direction == "lower"
    table = {row["auditor"]: row for row in result.details["auditors"]}
    for auditor, dev in deviation.groupby(pairs["rater_id"]):
        assert table[auditor]["n"] == len(dev)
        assert table[auditor]["bias"] == pytest.approx(dev.mean())
        assert table[auditor]["mean_abs_deviation"] == pytest.approx(dev.abs().mean())
        assert table[auditor]["within_tolerance"] == pytest.approx((dev.abs() <= 5).mean())
    assert result.details["tolerance"] == 5


def plain_kappa(a: np.ndarray, b: np.ndarray, weights: str) -> float:
    """Cohen's kappa from its definition, for ratings on a 1-4 scale."""
    levels = np.arange(1, 5)
    observed = np.array([[np.sum((a == i) & (b == j)) for j in levels] for i in levels]) / len(a)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    distance = np.abs(levels[:, None] - levels[None, :]) / 3.0
    w = {"none": (distance > 0).astype(float), "linear": distance, "quadratic": distance**2}[weights]
    return 1 - (w * observed).sum() / (w * expected).sum()


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_cohen_kappa_auditors_against_calibrator(demo_tables: Tables, weights: str) -> None:
    scores = demo_tables("calibration_scores")
    pairs = reference_pairs(now(scores), [*KEYS, "category"], "rating")
    result = compute("cohen_kappa", scores, params={"weights": weights})
    expected = plain_kappa(pairs["rating"].to_numpy(), pairs["rating_ref"].to_numpy(), weights)
    assert result.value == pytest.approx(expected)
    assert result.n == len(pairs)
    assert result.interval is not None and result.interval.low < result.value < result.interval.high
    assert result.change is not None and result.change.test is None  # a statistic: no test


def test_fleiss_kappa_on_fully_rated_units(demo_tables: Tables) -> None:
    scores = now(demo_tables("calibration_scores")).dropna(subset=["rating"])
    counts = pd.crosstab([scores["session_id"], scores["ticket_id"], scores["category"]],
                         scores["rating"])
    raters = counts.sum(axis=1)
    table = counts.loc[raters == raters.mode().max()].to_numpy(dtype=float)
    m = table.sum(axis=1)[0]
    agreement = ((table * (table - 1)).sum(axis=1) / (m * (m - 1))).mean()
    chance = ((table.sum(axis=0) / table.sum()) ** 2).sum()
    result = compute("fleiss_kappa", demo_tables("calibration_scores"))
    assert result.value == pytest.approx((agreement - chance) / (1 - chance))
    assert result.n == len(table)
    assert result.details["units_excluded"] == len(counts) - len(table)


def test_krippendorff_alpha_nominal(demo_tables: Tables) -> None:
    scores = now(demo_tables("calibration_scores")).dropna(subset=["rating"])
    # Coincidence matrix (Krippendorff 2011): every ordered pair of ratings within a unit,
    # weighted 1 / (m_u - 1).
    levels = np.arange(1, 5)
    coincidence = np.zeros((4, 4))
    units = 0
    for _, unit in scores.groupby(["session_id", "ticket_id", "category"]):
        values = unit["rating"].to_numpy(dtype=int)
        m = len(values)
        if m < 2:
            continue
        units += 1
        counts = np.array([(values == level).sum() for level in levels], dtype=float)
        coincidence += (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
    totals = coincidence.sum(axis=1)
    n = totals.sum()
    observed = coincidence.sum() - np.trace(coincidence)
    expected = (n * n - (totals**2).sum()) / (n - 1)
    result = compute("krippendorff_alpha", demo_tables("calibration_scores"),
                     params={"level": "nominal"})
    assert result.value == pytest.approx(1 - observed / expected)
    assert result.n == units


def test_icc_against_a_statsmodels_anova(demo_tables: Tables) -> None:
    reviews = now(demo_tables("calibration_reviews")).dropna(subset=["review_score"])
    complete = reviews.groupby(KEYS).filter(lambda g: len(g) == reviews["rater_id"].nunique())
    data = complete.assign(unit=complete["session_id"] + "/" + complete["ticket_id"])
    table = anova_lm(smf.ols("review_score ~ C(unit) + C(rater_id)", data=data).fit())
    bms, jms, ems = table.loc[["C(unit)", "C(rater_id)", "Residual"], "mean_sq"]
    n, k = data["unit"].nunique(), data["rater_id"].nunique()
    expected = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    result = compute("icc", demo_tables("calibration_reviews"), params={"form": "ICC(2,1)"})
    assert result.value == pytest.approx(expected)
    assert result.n == n
    assert result.interval is not None and result.interval.low < expected < result.interval.high
    assert result.details["raters"] and result.details["df1"] == n - 1


def test_decision_accuracy_and_enforcement(demo_tables: Tables) -> None:
    decisions = demo_tables("moderation_decisions")
    labelled = now(decisions).dropna(subset=["gold_action"])
    result = compute("decision_accuracy", decisions, by=["policy_area"])
    assert result.value == pytest.approx((labelled["action"] == labelled["gold_action"]).mean())
    assert result.n == len(labelled)
    assert_adds_up(result, "policy_area")
    rank = {"no_action": 0, "restrict": 1, "remove": 2}
    acted, gold = labelled["action"].map(rank), labelled["gold_action"].map(rank)
    assert result.details["over_enforcement"] == (acted > gold).sum()
    assert result.details["under_enforcement"] == (acted < gold).sum()


def test_appeal_and_overturn_rates(demo_tables: Tables) -> None:
    decisions = demo_tables("moderation_decisions")
    current = now(decisions)
    appeals = compute("appeal_rate", decisions, filter={"action": ["remove", "restrict"]})
    actioned = current.loc[current["action"] != "no_action"]
    assert appeals.value == pytest.approx(actioned["appealed"].mean())
    overturns = compute("overturn_rate", decisions, by=["action"])
    appealed = current.loc[current["appealed"] == 1]
    assert overturns.value == pytest.approx(appealed["overturned"].mean())
    assert_adds_up(overturns, "action")
    per_action = appealed.groupby("action")["overturned"].agg(["sum", "count"])
    for row in overturns.breakdowns["action"]:
        if row.key[0] in per_action.index:
            assert (row.numerator, row.denominator) == tuple(per_action.loc[row.key[0]])
        else:  # never appealed ('no_action'): shown as no data, not as a 0% overturn rate
            assert row.denominator == 0 and row.value is None
            assert row.suppressed == "no data for no_action"


def test_p_chart_of_the_weekly_reopen_rate(demo_tables: Tables) -> None:
    tickets = demo_tables("tickets")
    result = compute("p_chart", tickets, params={
        "rate": "reopen_rate", "time_column": "created_at", "subgroup": "week"})
    solved = tickets.loc[tickets["status"] == "solved"]
    week = solved["created_at"].dt.tz_localize(None).dt.to_period("W-SUN")
    weekly = solved["reopened"].groupby(week).agg(["sum", "count"])
    chart = result.details["p_chart"]
    center = weekly["sum"].sum() / weekly["count"].sum()
    assert chart["center"] == pytest.approx(center)
    assert [p["n"] for p in chart["points"]] == weekly["count"].tolist()
    for point, (_, row) in zip(chart["points"], weekly.iterrows(), strict=True):
        assert set(point) == {"label", "p", "n", "ucl", "lcl", "out_of_control"}
        sigma = np.sqrt(center * (1 - center) / row["count"])
        assert point["ucl"] == pytest.approx(min(center + 3 * sigma, 1))
        assert point["lcl"] == pytest.approx(max(center - 3 * sigma, 0))
        assert point["out_of_control"] == (not point["lcl"] <= point["p"] <= point["ucl"])
    assert result.value == pytest.approx(now(solved)["reopened"].mean())
    assert result.unit == "percent" and result.direction == "lower"
    assert re.fullmatch(r"W\d{2} 25", chart["points"][0]["label"])  # text.week_axis
    assert PERIOD.key == "2026-03"
