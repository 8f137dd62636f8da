"""A period without rows gives every calculator a clear 'no data' result: no crash, no zero."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from support.metric_frames import compute_metric
from test_metrics_demo import Tables, load_demo_tables

from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.metrics import CALCULATORS
from reportgen.period import Period

AFTER_THE_DATA = Period(date(2026, 4, 1), "month")
SCORECARD = "qa_review_ratings"
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "csat": ("csat_responses", {}), "dsat": ("csat_responses", {}), "nps": ("csat_responses", {}),
    "ces": ("csat_responses", {}),
    "survey_response_rate": ("tickets", {"response_column": "survey_sent"}),
    "qa_score": (SCORECARD, {}), "iqs": (SCORECARD, {}), "pass_rate": (SCORECARD, {}),
    "auto_fail_rate": (SCORECARD, {}), "defect_rate": (SCORECARD, {}),
    "audit_sample_size": (SCORECARD, {}),
    "calibration_deviation": ("calibration_reviews", {}), "icc": ("calibration_reviews", {}),
    "cohen_kappa": ("calibration_scores", {}), "fleiss_kappa": ("calibration_scores", {}),
    "krippendorff_alpha": ("calibration_scores", {}), "gwet_ac1": ("calibration_scores", {}),
    "volume": ("tickets", {}), "first_response_time": ("tickets", {}),
    "resolution_time": ("tickets", {}), "aht": ("tickets", {}), "fcr": ("tickets", {}),
    "reopen_rate": ("tickets", {}), "escalation_rate": ("tickets", {}),
    "sla_attainment": ("tickets", {}),
    "p_chart": ("tickets", {"rate": "sla_attainment", "time_column": "created_at"}),
    "decision_accuracy": ("moderation_decisions", {}), "appeal_rate": ("moderation_decisions", {}),
    "overturn_rate": ("moderation_decisions", {}),
    "moderation_quality": ("moderation_decisions", {}),
    "rubric_validity": ("qa_review_ratings", {"outcomes": [
        {"column": "critical", "kind": "binary", "better": "lower", "negligible": 0.01}]}),
    "reviewer_consistency": ("calibration_scores", {}), "qa_coverage": (SCORECARD, {}),
    "dispute_accept_rate": ("qa_disputes", {}), "dispute_resolution_days": ("qa_disputes", {}),
    "auto_human_kappa": ("qa_auto_scores", {}), "autoqa_governance": ("qa_auto_scores", {}),
    "comment_themes": ("csat_responses", {}),
    "kpi_anomaly": ("csat_responses", {"kpi": "csat"}),
    "target_projection": ("csat_responses", {"kpi": "csat"}),
    # the demo has no audit sample: solved tickets stand for audited ones, pending for skipped
    "audit_sample": ("tickets", {
        "status_column": "status", "audited": ["solved"], "skipped": ["pending"],
        "kpi_column": "sla_met", "compare": [
            {"column": "priority", "kind": "categorical"},
            {"column": "handle_minutes", "kind": "numeric"}]}),
}


@pytest.fixture(scope="session")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    return load_demo_tables(tmp_path_factory)


def test_every_flow_calculator_has_a_case() -> None:
    stocks = {name for name, calc in CALCULATORS.items() if calc.scope == "to_date"}
    assert set(CALCULATORS.names()) - stocks == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_rows_is_no_data(demo_tables: Tables, name: str) -> None:
    table, params = CASES[name]
    spec = MetricSpec(id=name, calculator=name, source=table, params=params, target=0.5,
                      by=["session_id" if "calibration" in table else table_key(table)])
    result = compute_metric(spec, demo_tables(table), AFTER_THE_DATA, AFTER_THE_DATA.trailing(3),
                            StatisticsSpec(min_n=5))
    assert result.value is None
    assert result.n == 0
    assert result.suppressed == "no data for April 2026"
    assert result.interval is None and result.status is None
    assert result.change is not None and result.change.delta is None
    assert result.history[0].n > 0  # January has data: only the report period is empty
    assert all(rows == () for rows in result.breakdowns.values())


def table_key(table: str) -> str:
    return {"moderation_decisions": "policy_area"}.get(table, "queue")


def test_a_backlog_persists_after_the_last_created_ticket(demo_tables: Tables) -> None:
    tickets = demo_tables("tickets")
    spec = MetricSpec(id="backlog", calculator="backlog", source="tickets")
    result = compute_metric(spec, tickets, AFTER_THE_DATA, AFTER_THE_DATA.trailing(3),
                            StatisticsSpec())
    # Tickets still open when the data ends are still open: the stock is a count, not 'no data'.
    assert result.value == tickets["solved_at"].isna().sum()
    assert result.suppressed is None
