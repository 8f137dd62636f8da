"""QA-programme calculators against small examples worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats as sps

from reportgen.metrics import calculator
from reportgen.metrics.base import HistoryFrames
from reportgen.period import Period

AUG = Period.parse("2026-08", "month", "UTC")
SEP = Period.parse("2026-09", "month", "UTC")


def _params(name: str, **values):
    return calculator(name).Params.model_validate(values)


# --- reviewer consistency ------------------------------------------------------------------

def _panel(ratings: dict[str, list[int]], questions=("Tone", "Accuracy"), session="S1"):
    """Calibration rows: each rater's ratings over tickets T1.. x questions, in order."""
    rows = []
    for rater, values in ratings.items():
        role = "calibrator" if rater == "CAL" else "auditor"
        for i, value in enumerate(values):
            rows.append({"session_id": session, "ticket_id": f"T{i // len(questions) + 1}",
                         "category": questions[i % len(questions)], "rater_id": rater,
                         "role": role, "rating": value})
    return pd.DataFrame(rows)


def test_reviewer_bias_against_the_calibrator_by_hand():
    # Two tickets x two questions.  R1 is one point above the calibrator on three of the
    # four questions and level on the fourth: bias = (1 + 1 + 1 + 0) / 4 = 0.75.
    frame = _panel({"CAL": [2, 3, 2, 3], "R1": [3, 4, 3, 3], "R2": [2, 3, 2, 3]})
    details = calculator("reviewer_consistency").details(
        frame, _params("reviewer_consistency", material_bias=0.0), None)
    by_name = {r["reviewer"]: r for r in details["reviewers"]}
    assert set(by_name) == {"R1", "R2"}  # the calibrator is the reference, not a reviewer
    r1 = by_name["R1"]
    assert r1["n"] == 4 and r1["bias"] == pytest.approx(0.75)
    # t interval by hand: deviations 1, 1, 1, 0 have sd 0.5, so half-width t(0.975, 3) x 0.25
    half = sps.t.ppf(0.975, 3) * 0.5 / 2
    assert (r1["low"], r1["high"]) == pytest.approx((0.75 - half, 0.75 + half))
    questions = {q["question"]: q["bias"] for q in r1["questions"]}
    assert questions == {"Tone": pytest.approx(1.0), "Accuracy": pytest.approx(0.5)}
    assert by_name["R2"]["bias"] == 0 and by_name["R2"]["p_value"] is None  # no spread: untested


def test_reviewer_bias_against_the_consensus_leaves_the_reviewer_out():
    # One question: ratings 2 (CAL), 3 (R1), 2 (R2).  R1's consensus is (2 + 2) / 2 = 2 -> +1;
    # R2's is (2 + 3) / 2 = 2.5 -> -0.5; the calibrator counts as one more rater: -0.5.
    frame = _panel({"CAL": [2], "R1": [3], "R2": [2]}, questions=("Tone",))
    details = calculator("reviewer_consistency").details(
        frame, _params("reviewer_consistency", reference="consensus"), None)
    assert {r["reviewer"]: r["bias"] for r in details["reviewers"]} == {
        "CAL": pytest.approx(-0.5), "R1": pytest.approx(1.0), "R2": pytest.approx(-0.5)}


def test_a_lenient_reviewer_is_flagged_after_holm_and_a_small_bias_is_not():
    # 20 items: R1 is +1 on 16 and level on 4 (bias 0.8, clearly beyond chance); R2 is +1 on
    # one item only (bias 0.05): not flagged.  The value is the share flagged: 1 of 2.
    cal = [2] * 20
    frame = _panel({"CAL": cal, "R1": [3] * 16 + [2] * 4, "R2": [3] + [2] * 19},
                   questions=("Tone",))
    params = _params("reviewer_consistency", material_bias=0.2)
    calc = calculator("reviewer_consistency")
    rows = {r["reviewer"]: r for r in calc.details(frame, params, None)["reviewers"]}
    # one-sample t by hand: mean 0.8, sd sqrt(0.8 * 0.2 * 20 / 19), n 20
    sd = math.sqrt(0.16 * 20 / 19)
    t = 0.8 / (sd / math.sqrt(20))
    p = 2 * sps.t.sf(t, 19)
    assert rows["R1"]["p_value"] == pytest.approx(p)
    assert rows["R1"]["p_adjusted"] == pytest.approx(min(1.0, 2 * p))  # Holm, smallest of 2
    assert rows["R1"]["flagged"] and not rows["R2"]["flagged"]
    estimate = calc.estimate(frame, params)
    assert (estimate.numerator, estimate.denominator) == (1, 2)


def test_a_reviewer_bias_trend_compares_with_the_previous_period():
    now = _panel({"CAL": [2] * 10, "R1": [3] * 10}, questions=("Tone",), session="S9")
    now.loc[now["rater_id"] == "R1", "rating"] = [3, 3, 3, 3, 3, 3, 3, 3, 2, 3]
    before = _panel({"CAL": [2] * 10, "R1": [2] * 9 + [3]}, questions=("Tone",), session="S8")
    history = HistoryFrames([AUG, SEP], {AUG.key: before, SEP.key: now}, SEP)
    (row,) = calculator("reviewer_consistency").details(
        now, _params("reviewer_consistency"), history)["reviewers"]
    assert row["bias"] == pytest.approx(0.9) and row["previous_bias"] == pytest.approx(0.1)
    assert row["change_p"] < 0.001 and row["previous_n"] == 10


# --- coverage ------------------------------------------------------------------------------

def _reviews(spec: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    """Per agent, per review: (rating of category A on 1-4, rating of B on 1-4); weights 1, 3."""
    rows = []
    number = 0
    for agent, reviews in spec.items():
        for a, b in reviews:
            number += 1
            for category, rating, weight in (("A", a, 1.0), ("B", b, 3.0)):
                rows.append({"review_id": f"R{number}", "agent_id": agent, "category": category,
                             "weight": weight, "critical": 0, "rating": rating,
                             "scale_min": 1, "scale_max": 4})
    return pd.DataFrame(rows)


def test_coverage_counts_agents_below_the_goal_and_wide_intervals_by_hand():
    # Review scores: (A - 1) / 3 x 100 weighted 1, (B - 1) / 3 x 100 weighted 3.
    # A1: (4, 4) -> 100, (1, 4) -> 75, (4, 1) -> 25: mean 66.67, sd 38.19.
    # A2: (4, 4) -> 100, (4, 4) -> 100: no spread, half-width 0.
    # A3: one review (a single review has no interval).
    frame = _reviews({"A1": [(4, 4), (1, 4), (4, 1)], "A2": [(4, 4), (4, 4)],
                      "A3": [(1, 1)]})
    params = _params("qa_coverage", goal=2, max_half_width=10)
    calc = calculator("qa_coverage")
    estimate = calc.estimate(frame, params)
    assert (estimate.numerator, estimate.denominator) == (1, 3)  # only A3 is short of 2
    agents = {a["agent"]: a for a in calc.details(frame, params, None)["agents"]}
    assert agents["A1"]["mean"] == pytest.approx(200 / 3)
    sd = math.sqrt(((100 - 200 / 3) ** 2 + (75 - 200 / 3) ** 2 + (25 - 200 / 3) ** 2) / 2)
    assert agents["A1"]["half_width"] == pytest.approx(sps.t.ppf(0.975, 2) * sd / math.sqrt(3))
    assert agents["A1"]["too_wide"] and not agents["A2"]["too_wide"]
    assert agents["A3"]["too_wide"] and agents["A3"]["below_goal"]


def test_a_failed_critical_category_scores_the_review_zero_for_coverage():
    frame = _reviews({"A1": [(4, 4)]})
    frame = pd.concat([frame, pd.DataFrame([{
        "review_id": "R1", "agent_id": "A1", "category": "Data", "weight": 1.0, "critical": 1,
        "rating": 0, "scale_min": 0, "scale_max": 1}])])
    (agent,) = calculator("qa_coverage").details(frame, _params("qa_coverage"), None)["agents"]
    assert agent["mean"] == 0


# --- disputes ------------------------------------------------------------------------------

def test_dispute_accept_rate_counts_resolved_disputes_only():
    # 3 accepted, 5 upheld, 2 still open: 3 / 8.
    frame = pd.DataFrame({"accepted": [1, 1, 1, 0, 0, 0, 0, 0, None, None],
                          "category": ["x"] * 10})
    estimate = calculator("dispute_accept_rate").estimate(frame, _params("dispute_accept_rate"))
    assert (estimate.numerator, estimate.denominator) == (3, 8)
    # Wilson by hand: centre (p + z^2/2n) / (1 + z^2/n), half z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
    z, n, p = sps.norm.ppf(0.975), 8, 3 / 8
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    found = estimate.interval(0.95)
    assert (found.low, found.high) == pytest.approx((centre - half, centre + half))


def test_days_to_resolve_is_the_median_of_resolved_disputes():
    frame = pd.DataFrame({"days_to_resolve": [1.0, 2.0, 3.0, 10.0, None]})
    estimate = calculator("dispute_resolution_days").estimate(
        frame, _params("dispute_resolution_days"))
    assert estimate.value == pytest.approx(2.5) and estimate.n == 4


# --- automatic vs human --------------------------------------------------------------------

def _pairs(table: list[list[int]], question: str) -> pd.DataFrame:
    """Rows from a 2 x 2 table: table[auto][human] counts of ratings (1 = fail, 2 = pass)."""
    rows = []
    for auto in (0, 1):
        for human in (0, 1):
            rows += [{"auto_rating": auto + 1, "human_rating": human + 1,
                      "category": question}] * table[auto][human]
    return pd.DataFrame(rows)


def test_auto_human_kappa_by_hand():
    # Tone: 20 + 15 agree of 50, p_o = 0.7; margins 25/25 (auto) and 30/20 (human), so
    # p_e = (25 x 30 + 25 x 20) / 50^2 = 0.5 and kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    # Accuracy agrees on every one of its 40 ratings: kappa 1.
    frame = pd.concat([_pairs([[20, 5], [10, 15]], "Tone"),
                       _pairs([[10, 0], [0, 30]], "Accuracy")])
    calc = calculator("auto_human_kappa")
    params = _params("auto_human_kappa", min_kappa=0.6)
    questions = {q["question"]: q for q in calc.details(frame, params, None)["questions"]}
    assert questions["Tone"]["kappa"] == pytest.approx(0.4)
    assert questions["Tone"]["agreement"] == pytest.approx(0.7)
    assert questions["Accuracy"]["kappa"] == pytest.approx(1.0)
    # Pooled: p_o = 75/90; auto margins 35 fail / 55 pass, human 40 / 50.
    p_o, p_e = 75 / 90, (35 * 40 + 55 * 50) / 90 ** 2
    estimate = calc.estimate(frame, params)
    assert estimate.value == pytest.approx((p_o - p_e) / (1 - p_e)) and estimate.n == 90
    low, high = questions["Tone"]["low"], questions["Tone"]["high"]
    assert low < 0.4 < high
