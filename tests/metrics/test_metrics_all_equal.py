"""A period whose values are all equal has no spread: the tile says "all n values were
equal" instead of a zero-width "95% CI 100.0–100.0" (CES, QA score, IQS, first response
time, P90 resolution time, AHT, calibration deviation)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support.metric_frames import compute_metric

from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.period import Period
from reportgen.report.tiles_and_tables import make_kpi

PERIOD = Period(date(2026, 9, 1), "month")
N = 40


def scorecard(rating: float) -> pd.DataFrame:
    return pd.DataFrame({"review_id": [f"R{i}" for i in range(N)], "category": "c",
                         "weight": 1.0, "critical": 0, "rating": rating, "scale_min": 1.0,
                         "scale_max": 4.0, "agent_id": [f"A{i % 8}" for i in range(N)]})


def calibration() -> pd.DataFrame:
    """Each of N / 2 tickets: the calibrator scores 80, the auditor 85 (deviation 5)."""
    rows = []
    for ticket in range(N // 2):
        for rater, role, score in (("C", "calibrator", 80.0), ("A", "auditor", 85.0)):
            rows.append({"session_id": "S1", "ticket_id": f"T{ticket}", "category": "All",
                         "rater_id": rater, "role": role, "review_score": score})
    return pd.DataFrame(rows)


CASES: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {
    "ces": (pd.DataFrame({"effort_score": [6.0] * N}), {"column": "effort_score", "scale": 7}),
    "qa_score": (scorecard(4.0), {}),
    "qa_score_clustered": (scorecard(4.0), {"cluster_column": "agent_id"}),
    "iqs": (pd.DataFrame({"review_id": range(N), "score": 100.0}), {"score_column": "score"}),
    "first_response_time": (pd.DataFrame({"first_response_minutes": [12.0] * N}), {}),
    "resolution_time": (pd.DataFrame({"resolution_hours": [8.0] * N}), {"quantile": 0.9}),
    "aht": (pd.DataFrame({"handle_minutes": [7.5] * N}), {}),
    "calibration_deviation": (calibration(), {"score_column": "review_score"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_equal_values_say_so_instead_of_a_zero_width_interval(case: str) -> None:
    frame, params = CASES[case]
    name = case.removesuffix("_clustered")
    spec = MetricSpec(id=case, calculator=name, source="s", params=params)
    result = compute_metric(spec, frame.assign(**{PERIOD_COLUMN: PERIOD.key}), PERIOD,
                            PERIOD.trailing(2), StatisticsSpec(min_n=5))
    assert result.value is not None
    shown = make_kpi(result)
    n = len(frame) if name != "calibration_deviation" else N // 2
    assert result.n == n
    assert shown.interval_text == f"all {n} values were equal"
    assert "CI" not in shown.interval_text


def test_values_that_differ_keep_their_interval() -> None:
    frame = pd.DataFrame({"handle_minutes": np.linspace(5, 10, N)})
    spec = MetricSpec(id="aht", calculator="aht", source="s")
    result = compute_metric(spec, frame.assign(**{PERIOD_COLUMN: PERIOD.key}), PERIOD,
                            PERIOD.trailing(2), StatisticsSpec(min_n=5))
    assert result.interval is not None and result.interval.low < result.interval.high
    assert make_kpi(result).interval_text.startswith("95% CI ")


def test_the_methodology_says_there_is_no_interval() -> None:
    from reportgen.report.method_notes import method_note

    frame, params = CASES["aht"]
    spec = MetricSpec(id="aht", calculator="aht", source="s", params=params)
    result = compute_metric(spec, frame.assign(**{PERIOD_COLUMN: PERIOD.key}), PERIOD,
                            PERIOD.trailing(2), StatisticsSpec(min_n=5))
    assert method_note(result).test.startswith(f"no interval: all {N} values were equal")
