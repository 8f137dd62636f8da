"""Sentences, formatting, control charts, calibration and ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support.plans import plan_of
from test_insights_support import (
    PERIOD,
    change_words,
    claims,
    compute,
    definition,
    instants,
    score_rows,
    survey_rows,
    window,
)

from reportgen.insights import build_insights
from reportgen.insights.text import delta_text, p_text, signed_delta_text, value_text
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.report.model.metric_results import MetricResult


def test_numbers_read_the_way_a_director_reads_them() -> None:
    assert value_text(0.812, "percent") == "81.2%"
    assert delta_text(-0.041, "percent") == "4.1 points"
    assert delta_text(3.25, "score") == "3.2 points"
    assert value_text(84.46, "score") == "84.5"
    assert value_text(12345, "count") == "12,345"
    assert signed_delta_text(-0.029, "percent") == "−2.9 points"
    assert signed_delta_text(-0.0001, "percent") == "+0.0 points"
    assert p_text(0.0312) == "p = 0.031"  # the same two significant digits as a KPI tile
    assert p_text(0.0004) == "p < 0.001"
    assert p_text(0.0042) == "p = 0.0042"
    assert p_text(0.0496, alpha=0.05) == "p = 0.0496"  # never reads as exactly alpha


def test_no_directional_word_on_a_non_significant_or_withheld_result() -> None:
    rng = np.random.default_rng(12)
    history = window(6)
    cells = [(p, q, n, 0.86) for p in history
             for q, n in (("Billing", 300), ("Payments", 250), ("Legal", 9))]
    qa_cells = [(p, "Onboarding", 60, 80.0) for p in history]
    metrics = [
        {"id": "csat", "calculator": "csat", "source": "survey", "label": "CSAT",
         "by": ["queue"], "target": 0.8},
        {"id": "contacts", "calculator": "volume", "source": "survey", "label": "Responses"},
        {"id": "legal", "calculator": "csat", "source": "survey", "label": "Legal CSAT",
         "filter": {"queue": "Legal"}},
        {"id": "qa", "calculator": "qa_score", "source": "qa", "label": "QA score"},
    ]
    flat = {"name": "Macro refresh", "date": "2026-07-01", "metric": "qa", "expected": "improve"}
    defn = definition(metrics, interventions=[flat], summary=[m["id"] for m in metrics])
    frames = {"survey": survey_rows(rng, cells), "qa": score_rows(rng, qa_cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    kinds = {f.kind for f in findings}
    assert {"no_significant_change", "small_sample", "no_test", "intervention"} <= kinds
    assert claims(findings) == []
    for finding in findings:
        assert finding.direction == "none"
        assert change_words(finding.sentence) == [], finding.sentence
    legal = [f for f in findings if f.metric_id == "legal"]
    assert [f.kind for f in legal] == ["small_sample"]
    assert "n = " in legal[0].sentence and "below the minimum of 30" in legal[0].sentence
    none = [f for f in findings if f.kind == "no_significant_change"]
    assert all("no significant change (p = " in f.sentence for f in none)


def _chart_metric(points: list[tuple[float, int]], center: float) -> MetricResult:
    rows = []
    for i, (p, n) in enumerate(points):
        spread = 3 * (center * (1 - center) / n) ** 0.5
        rows.append({"label": f"2026-W{i + 1:02d}", "p": p, "n": n, "ucl": center + spread,
                     "lcl": center - spread,
                     "out_of_control": not center - spread <= p <= center + spread})
    return MetricResult(metric_id="fcr", label="First contact resolution", calculator="p_chart",
                        unit="percent", direction="higher", value=points[-1][0],
                        n=points[-1][1], details={"p_chart": {"center": center, "points": rows}})


@pytest.mark.parametrize("latest, rules", [(0.72, ["beyond limits", "run of 8"]),
                                           (0.79, ["run of 8"])])
def test_control_chart_signals_on_the_latest_point(latest: float, rules: list[str]) -> None:
    center = 0.80
    points = [(0.83, 400), (0.88, 400), (0.78, 400), (0.81, 400)] + [(0.79, 400)] * 8 \
        + [(latest, 400)]
    metric = _chart_metric(points, center)
    defn = definition([{"id": "fcr", "calculator": "csat", "source": "survey"}])
    findings = build_insights(plan_of(defn), {"fcr": metric}, {}, PERIOD, window(3))
    signal = [f for f in findings if f.kind == "out_of_control"]
    assert len(signal) == 1
    assert (signal[0].direction, signal[0].tone) == ("declined", "bad")
    assert signal[0].numbers["rules"] == rules
    assert signal[0].numbers["run_length"] == 9
    earlier = [f for f in findings if f.kind == "control_history"]
    assert len(earlier) == 1 and earlier[0].direction == "none"  # 0.88 in week 2
    assert "2026-W02" in earlier[0].sentence


def _calibration_rows(rng: np.random.Generator, history: list, drifting: str) -> pd.DataFrame:
    """Four auditors and a calibrator score 40 tickets a month; one drifts lenient this month."""
    parts = []
    raters = ["A1", "A2", "A3", "A4"]
    for period in history:
        tickets = 40
        truth = rng.normal(75, 10, tickets)
        when = instants(rng, period, 1)[0]
        for rater in [*raters, "CAL"]:
            bias = 9.0 if (rater == drifting and period == PERIOD) else 0.0
            noise = 0.0 if rater == "CAL" else rng.normal(0, 3, tickets)
            parts.append(pd.DataFrame({
                "session_id": f"S-{period.key}", "ticket_id": np.arange(tickets),
                "rater_id": rater, "role": "calibrator" if rater == "CAL" else "auditor",
                "review_score": truth + bias + noise, "session_at": when,
                PERIOD_COLUMN: period.key}))
    return pd.concat(parts, ignore_index=True)


def test_an_auditor_who_drifts_is_outside_tolerance_and_flagged_as_drifting() -> None:
    rng = np.random.default_rng(6)
    history = window(3)
    spec = {"id": "calib", "calculator": "calibration_deviation", "source": "calibration",
            "label": "Calibration deviation", "params": {"tolerance": 5.0}}
    defn = definition([spec])
    frames = {"calibration": _calibration_rows(rng, history, drifting="A3")}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    outliers = [f for f in findings if f.kind == "calibration_outlier"]
    assert [f.scope for f in outliers] == ["auditor = A3"]
    # it leads with the lean the calibration chart draws (the bias), then the average gap
    bias, gap = outliers[0].numbers["bias"], outliers[0].numbers["mean_abs_deviation"]
    assert outliers[0].sentence.startswith(
        f"Auditor A3 scores {delta_text(bias, 'score')} above the calibrator on average. "
        f"Their average gap from the calibrator is {delta_text(gap, 'score')}, beyond the "
        f"tolerance of 5.0 points")
    drift = [f for f in findings if f.kind == "calibration_drift"]
    assert [(f.scope, f.direction) for f in drift] == [("auditor = A3", "declined")]
    assert drift[0].numbers["p_adjusted"] < 0.05 and drift[0].numbers["family_size"] == 4


def test_findings_are_ranked_and_the_biggest_news_leads() -> None:
    rng = np.random.default_rng(21)
    history = window(4)
    cells = [(p, q, 900, 0.74 if (q == "Billing" and p == PERIOD) else 0.88)
             for p in history for q in ("Billing", "Payments", "Onboarding")]
    qa_cells = [(p, "Onboarding", 50, 80.0) for p in history]
    metrics = [{"id": "csat", "calculator": "csat", "source": "survey", "label": "CSAT",
                "by": ["queue"], "target": 0.85},
               {"id": "qa", "calculator": "qa_score", "source": "qa", "label": "QA score"}]
    defn = definition(metrics, summary=["csat", "qa"])
    frames = {"survey": survey_rows(rng, cells), "qa": score_rows(rng, qa_cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    severities = [f.severity for f in findings]
    assert severities == sorted(severities, reverse=True)
    assert all(0 <= s <= 100 for s in severities)
    assert (findings[0].kind, findings[0].metric_id) == ("significant_change", "csat")
    notes = [f for f in findings if f.kind in ("no_significant_change", "small_sample")]
    assert notes and all(f.severity < findings[0].severity / 2 for f in notes)
