"""Calculators on small hand-built frames whose answers are published or obvious."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from stats.test_stats import FLEISS_WIKIPEDIA, SHROUT_FLEISS, krippendorff_wikipedia

from reportgen.metrics import CALCULATORS, calculator
from reportgen.metrics.base import CalculatorParams
from reportgen.metrics.estimates import Estimate


def run(name: str, frame: pd.DataFrame, **params: object) -> Estimate:
    calc = calculator(name)
    return calc.estimate(frame, calc.Params.model_validate(params))


def params_of(name: str, **params: object) -> CalculatorParams:
    return calculator(name).Params.model_validate(params)


def test_csat_ten_fives_and_twenty_fours_of_fifty() -> None:
    frame = pd.DataFrame({"rating": [5] * 10 + [4] * 20 + [3] * 5 + [2] * 5 + [1] * 10})
    est = run("csat", frame)
    assert est.value == pytest.approx(0.60)
    assert (est.numerator, est.denominator, est.n) == (30, 50, 50)


def test_csat_74_of_107() -> None:
    frame = pd.DataFrame({"rating": [5] * 74 + [2] * 33})
    assert run("csat", frame).value == pytest.approx(0.6916, abs=1e-4)


def test_csat_good_bad_survey_with_scale_two() -> None:
    frame = pd.DataFrame({"rating": [2, 2, 2, 1, None]})
    est = run("csat", frame, scale=2, good_from=2)
    assert (est.value, est.n) == (pytest.approx(0.75), 4)


def test_csat_params_are_validated() -> None:
    with pytest.raises(ValidationError, match="good_from"):
        params_of("csat", scale=5, good_from=6)
    with pytest.raises(ValidationError, match="extra"):
        params_of("csat", colum="rating")


def test_nps_thirty_promoters_twenty_detractors_is_plus_ten() -> None:
    frame = pd.DataFrame({"nps_score": [10] * 15 + [9] * 15 + [8] * 50 + [3] * 20})
    est = run("nps", frame)
    assert est.value == pytest.approx(10.0)
    assert est.n == 100
    interval = est.interval(0.95)
    assert interval is not None and interval.low < 10 < interval.high


def test_dsat_and_ces() -> None:
    frame = pd.DataFrame({"rating": [1, 2, 3, 4, 5, 9], "effort_score": [7, 6, 5, 1, None, 8]})
    assert run("dsat", frame).value == pytest.approx(2 / 5)  # 9 is off the 1-5 scale
    assert run("ces", frame).value == pytest.approx(np.mean([7, 6, 5, 1]))


def test_iqs_zendesk_example() -> None:
    frame = pd.DataFrame({"review_id": list("abcde"), "score": [100, 9.91, 63.96, 90.99, 0]})
    est = run("iqs", frame, score_column="score")
    assert est.value == pytest.approx(52.97, abs=0.005)
    assert est.n == 5
    assert params_of("iqs", score_column="score").columns() == ["review_id", "score"]


def scorecard() -> pd.DataFrame:
    """Three reviews: one good, one with an N/A and a defect, one failed on a critical category."""
    rows = [
        ("r1", "Tone", 1.0, 0, 4, 1, 4), ("r1", "Accuracy", 3.0, 0, 4, 1, 4), ("r1", "Privacy", 0.0, 1, 1, 0, 1),
        ("r2", "Tone", 1.0, 0, None, 1, 4), ("r2", "Accuracy", 3.0, 0, 2, 1, 4), ("r2", "Privacy", 0.0, 1, 1, 0, 1),
        ("r3", "Tone", 1.0, 0, 4, 1, 4), ("r3", "Accuracy", 3.0, 0, 3, 1, 4), ("r3", "Privacy", 0.0, 1, 0, 0, 1),
    ]
    return pd.DataFrame(rows, columns=["review_id", "category", "weight", "critical", "rating",
                                       "scale_min", "scale_max"])


def test_qa_scores_of_a_hand_scored_scorecard() -> None:
    frame = scorecard()
    # r1 = 100, r2 = Accuracy only = (2-1)/3 x 100, r3 = 0 (critical failure)
    expected = [100.0, 100 / 3, 0.0]
    assert run("qa_score", frame).value == pytest.approx(np.mean(expected))
    assert run("iqs", frame).value == pytest.approx(np.mean(expected))
    assert run("pass_rate", frame, pass_from=80).value == pytest.approx(1 / 3)
    assert run("auto_fail_rate", frame).value == pytest.approx(1 / 3)
    defects = run("defect_rate", frame)  # r2 Accuracy (33) and r3 Privacy (0) of 8 rated
    assert (defects.numerator, defects.denominator) == (2, 8)


def test_audit_sample_size() -> None:
    frame = pd.DataFrame({"review_id": [f"r{i}" for i in range(100)]})
    est = run("audit_sample_size", frame)
    assert (est.value, est.n) == (385, 100)
    assert run("audit_sample_size", frame, population=2000).value == 323


def calibration_long(matrix: np.ndarray, column: str = "rating") -> pd.DataFrame:
    """A units x raters matrix as calibration rows; rater 0 is the calibrator."""
    rows = []
    for unit, ratings in enumerate(matrix):
        for rater, value in enumerate(ratings):
            rows.append({"session_id": "S1", "ticket_id": f"T{unit:02d}", "category": "All",
                         "rater_id": f"R{rater}", "role": "calibrator" if rater == 0 else "auditor",
                         column: value})
    return pd.DataFrame(rows)


def test_icc_calculator_reproduces_shrout_fleiss() -> None:
    frame = calibration_long(SHROUT_FLEISS, "review_score")
    for form, published in [("ICC(1,1)", 0.17), ("ICC(2,1)", 0.29), ("ICC(3,k)", 0.91)]:
        est = run("icc", frame, form=form)
        assert est.value == pytest.approx(published, abs=0.005)
        assert est.n == 6
        assert est.interval(0.95) is not None


def test_krippendorff_calculator_reproduces_wikipedia() -> None:
    frame = calibration_long(krippendorff_wikipedia().T).dropna(subset=["rating"])
    assert run("krippendorff_alpha", frame, level="nominal").value == pytest.approx(0.691358, abs=1e-6)
    assert run("krippendorff_alpha", frame, level="interval").value == pytest.approx(0.810845, abs=1e-6)


def test_fleiss_calculator_reproduces_wikipedia() -> None:
    rows = []
    for unit, counts in enumerate(FLEISS_WIKIPEDIA):
        ratings = np.repeat(np.arange(1, 6), counts)
        rows += [{"session_id": "S", "ticket_id": f"T{unit}", "category": "c", "rater_id": f"R{r}",
                  "role": "auditor", "rating": int(v)} for r, v in enumerate(ratings)]
    est = run("fleiss_kappa", pd.DataFrame(rows))
    assert est.value == pytest.approx(0.210, abs=5e-4)
    assert est.n == 10


def test_cohen_calculator_pools_auditors_against_the_calibrator() -> None:
    # Table [[20, 5], [10, 15]] (auditor rows x calibrator columns), from two auditors.
    pairs = [(1, 1)] * 20 + [(1, 2)] * 5 + [(2, 1)] * 10 + [(2, 2)] * 15
    rows = []
    for i, (auditor, reference) in enumerate(pairs):
        rows.append({"session_id": "S", "ticket_id": f"T{i}", "category": "c",
                     "rater_id": "CAL", "role": "calibrator", "rating": reference})
        rows.append({"session_id": "S", "ticket_id": f"T{i}", "category": "c",
                     "rater_id": f"A{i % 2}", "role": "auditor", "rating": auditor})
    est = run("cohen_kappa", pd.DataFrame(rows))
    assert est.value == pytest.approx(0.40)
    assert est.n == 50


def test_agreement_when_everyone_uses_one_category_is_undefined_not_perfect() -> None:
    frame = calibration_long(np.full((5, 3), 3.0))
    assert run("cohen_kappa", frame).value is None
    assert run("krippendorff_alpha", frame).value is None


def test_calibration_deviation_per_auditor() -> None:
    frame = calibration_long(np.array([[80, 85, 70], [60, 58, 50], [90, 90, 95]]), "review_score")
    est = run("calibration_deviation", frame, tolerance=5)
    # deviations: R1 +5 -2 0, R2 -10 -10 +5
    assert est.value == pytest.approx(np.mean([5, 2, 0, 10, 10, 5]))
    details = calculator("calibration_deviation").details(
        frame, params_of("calibration_deviation", tolerance=5), None)  # type: ignore[arg-type]
    by_auditor = {row["auditor"]: row for row in details["auditors"]}
    assert by_auditor["R1"]["bias"] == pytest.approx(1.0)
    assert by_auditor["R2"]["within_tolerance"] == pytest.approx(1 / 3)
    assert set(by_auditor["R1"]) == {"auditor", "n", "mean_abs_deviation", "bias", "within_tolerance"}
    assert details["tolerance"] == 5


def test_durations_median_and_p90() -> None:
    frame = pd.DataFrame({"first_response_minutes": [1.0, 2, 3, 4, 100, None]})
    assert run("first_response_time", frame).value == 3.0
    p90 = run("first_response_time", frame, quantile=0.9)
    assert p90.value == pytest.approx(np.quantile([1, 2, 3, 4, 100], 0.9))
    assert p90.n == 5


def test_decision_accuracy_over_and_under_enforcement() -> None:
    frame = pd.DataFrame({
        "action": ["remove", "remove", "no_action", "restrict", "restrict"],
        "gold_action": ["remove", "no_action", "remove", None, "restrict"],
    })
    calc = calculator("decision_accuracy")
    params = params_of("decision_accuracy")
    est = calc.estimate(frame, params)
    assert (est.numerator, est.denominator) == (2, 4)
    details = calc.details(frame, params, None)  # type: ignore[arg-type]
    assert (details["over_enforcement"], details["under_enforcement"]) == (1, 1)


def test_p_chart_params_need_a_rate() -> None:
    with pytest.raises(ValidationError, match="needs a rate"):
        params_of("p_chart", rate="aht", time_column="created_at")
    with pytest.raises(ValidationError):
        params_of("p_chart", rate="reopen_rate", rate_params={"colum": "x"}, time_column="t")
    params = params_of("p_chart", rate="reopen_rate", time_column="created_at")
    assert params.columns() == ["created_at", "reopened", "status"]


def test_every_calculator_declares_its_estimate_kind() -> None:
    from reportgen.metrics.forecast import KpiWrapper

    kinds = {"proportion", "mean", "quantile", "net_score", "count", "statistic"}
    for name, calc in CALCULATORS.items():
        if issubclass(calc, KpiWrapper):  # the wrapped KPI's kind, named in the definition
            assert calc.estimate_kind == "", name
            continue
        assert calc.estimate_kind in kinds, name
