"""Voice-of-customer, QA and operations calculators on the demo data, checked with plain pandas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support.metric_frames import compute_metric

from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.period import Period
from reportgen.report.model.metric_results import MetricResult

END = date(2026, 3, 1)
PERIOD = Period(END, "month")
HISTORY = PERIOD.trailing(4)
TIME_COLUMNS = {
    "tickets": "created_at", "csat_responses": "responded_at", "qa_review_ratings": "reviewed_at",
    "calibration_reviews": "session_date", "calibration_scores": "session_date",
    "moderation_decisions": "decided_at", "qa_disputes": "raised_at",
    "qa_auto_scores": "reviewed_at",
}
Tables = Callable[[str], pd.DataFrame]


def load_demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    """The demo tables (four months to March 2026) as a source would hand them over.

    Generated once per session into the session's base folder and shared by the test
    modules that need them.
    """
    from reportgen.demo import generate_demo_data

    out = tmp_path_factory.getbasetemp() / "metrics-demo"
    if not (out / "tickets.csv").exists():
        generate_demo_data(out, seed=7, end_month=END, months=4)
    cache: dict[str, pd.DataFrame] = {}

    def table(name: str) -> pd.DataFrame:
        if name not in cache:
            frame = pd.read_csv(Path(out) / f"{name}.csv")
            times = pd.to_datetime(frame[TIME_COLUMNS[name]]).dt.tz_localize("UTC")
            frame[TIME_COLUMNS[name]] = times
            frame[PERIOD_COLUMN] = times.dt.strftime("%Y-%m")
            cache[name] = frame
        return cache[name].copy()

    return table


@pytest.fixture(scope="session")
def demo_tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    return load_demo_tables(tmp_path_factory)


def compute(calculator: str, frame: pd.DataFrame, **fields: Any) -> MetricResult:
    spec = MetricSpec(id=calculator, calculator=calculator, source="demo", **fields)
    return compute_metric(spec, frame, PERIOD, HISTORY, StatisticsSpec(min_n=10))


def now(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame[PERIOD_COLUMN] == PERIOD.key]


def assert_adds_up(result: MetricResult, by: str) -> None:
    rows = result.breakdowns[by]
    assert len(rows) > 1
    assert sum(r.numerator or 0 for r in rows) == pytest.approx(result.numerator)
    assert sum(r.denominator or 0 for r in rows) == pytest.approx(result.denominator)


# --- voice of customer ---------------------------------------------------------------------
def test_csat_dsat(demo_tables: Tables) -> None:
    responses = demo_tables("csat_responses")
    rating = now(responses)["rating"]
    csat = compute("csat", responses, by=["queue"])
    assert csat.value == pytest.approx((rating >= 4).mean())
    assert csat.n == len(rating)
    assert_adds_up(csat, "queue")
    dsat = compute("dsat", responses)
    assert dsat.value == pytest.approx((rating <= 2).mean())
    before = responses.loc[responses[PERIOD_COLUMN] == "2026-02", "rating"]
    assert csat.previous == pytest.approx((before >= 4).mean())


def test_nps_and_ces(demo_tables: Tables) -> None:
    responses = demo_tables("csat_responses")
    scores = now(responses)["nps_score"].dropna()
    nps = compute("nps", responses)
    assert nps.value == pytest.approx(100 * ((scores >= 9).mean() - (scores <= 6).mean()))
    assert nps.n == len(scores)
    effort = now(responses)["effort_score"].dropna()
    ces = compute("ces", responses)
    assert ces.value == pytest.approx(effort.mean())


def test_survey_response_rate_over_tickets_joined_to_responses(demo_tables: Tables) -> None:
    tickets, responses = demo_tables("tickets"), demo_tables("csat_responses")
    first = responses.drop_duplicates("ticket_id")[["ticket_id", "response_id"]]
    joined = tickets.merge(first, on="ticket_id", how="left")  # what the source's SQL join gives
    result = compute("survey_response_rate", joined, by=["channel"],
                     params={"response_column": "response_id", "response_is": "present"})
    sent = now(tickets).loc[now(tickets)["survey_sent"] == 1]
    assert result.denominator == len(sent)
    assert result.value == pytest.approx(sent["ticket_id"].isin(responses["ticket_id"]).mean())
    assert_adds_up(result, "channel")


# --- QA audits ------------------------------------------------------------------------------
def expected_review_scores(ratings: pd.DataFrame) -> pd.Series:
    """Review scores summed up row by row in plain Python, the way an auditor would by hand."""
    weighted: dict[str, float] = {}
    weights: dict[str, float] = {}
    failed: set[str] = set()
    for row in ratings.itertuples():
        if pd.isna(row.rating):
            continue
        category = (row.rating - row.scale_min) / (row.scale_max - row.scale_min) * 100
        weighted[row.review_id] = weighted.get(row.review_id, 0.0) + row.weight * category
        weights[row.review_id] = weights.get(row.review_id, 0.0) + row.weight
        if row.critical == 1 and category <= 0:
            failed.add(row.review_id)
    return pd.Series({review: 0.0 if review in failed else weighted[review] / weights[review]
                      for review in weights})


def test_qa_score_iqs_pass_and_auto_fail(demo_tables: Tables) -> None:
    ratings = demo_tables("qa_review_ratings")
    scores = expected_review_scores(now(ratings))
    qa = compute("qa_score", ratings, by=["queue"])
    assert qa.value == pytest.approx(scores.mean())
    assert qa.n == len(scores)
    assert compute("iqs", ratings).value == pytest.approx(scores.mean())
    passed = compute("pass_rate", ratings, params={"pass_from": 75}, by=["queue"])
    # A review exactly on the pass mark passes, whatever the float rounding of its weights.
    assert passed.value == pytest.approx((scores.round(9) >= 75).mean())
    assert_adds_up(passed, "queue")
    current = now(ratings)
    critical_fail = current.loc[(current["critical"] == 1) & (current["rating"] == 0), "review_id"]
    auto = compute("auto_fail_rate", ratings)
    assert auto.numerator == critical_fail.nunique()
    assert auto.denominator == len(scores)


def test_defect_rate_by_category(demo_tables: Tables) -> None:
    ratings = demo_tables("qa_review_ratings")
    current = now(ratings).dropna(subset=["rating"])
    defect = current["rating"] <= current["scale_min"] + (current["scale_max"] - current["scale_min"]) / 2
    result = compute("defect_rate", ratings, by=["category"])
    assert result.value == pytest.approx(defect.mean())
    assert_adds_up(result, "category")
    by_category = defect.groupby(current["category"]).agg(["sum", "count"])
    for row in result.breakdowns["category"]:
        expected = by_category.loc[row.key[0]]
        assert (row.numerator, row.denominator) == (expected["sum"], expected["count"])


def test_audit_sample_size_and_achieved_margin(demo_tables: Tables) -> None:
    ratings = demo_tables("qa_review_ratings")
    result = compute("audit_sample_size", ratings, params={"population": 2000})
    done = now(ratings)["review_id"].nunique()
    assert result.value == 323 and result.n == done
    margin = 1.959964 * np.sqrt(0.25 / done) * np.sqrt((2000 - done) / 1999)
    assert result.details["margin_achieved"] == pytest.approx(margin, abs=1e-5)


# --- operations -----------------------------------------------------------------------------
def test_response_resolution_and_handle_times(demo_tables: Tables) -> None:
    tickets = demo_tables("tickets")
    current = now(tickets)
    frt = compute("first_response_time", tickets)
    assert frt.value == pytest.approx(current["first_response_minutes"].median())
    assert frt.n == current["first_response_minutes"].notna().sum()
    p90 = compute("resolution_time", tickets, params={"quantile": 0.9})
    assert p90.value == pytest.approx(current["resolution_hours"].dropna().quantile(0.9))
    assert p90.unit == "hours" and p90.direction == "lower"
    assert compute("aht", tickets).value == pytest.approx(current["handle_minutes"].mean())


def test_ticket_rates(demo_tables: Tables) -> None:
    tickets = demo_tables("tickets")
    current = now(tickets)
    solved = current.loc[current["status"] == "solved"]
    fcr = compute("fcr", tickets, by=["queue"])
    assert fcr.value == pytest.approx((solved["agent_replies"] == 1).mean())
    assert_adds_up(fcr, "queue")
    assert compute("reopen_rate", tickets).value == pytest.approx(solved["reopened"].mean())
    assert compute("escalation_rate", tickets).value == pytest.approx(current["escalated"].mean())
    sla = compute("sla_attainment", tickets)
    assert sla.value == pytest.approx(current["sla_met"].dropna().mean())
    assert sla.n == current["sla_met"].notna().sum()
    volume = compute("volume", tickets, by=["channel"])
    assert volume.value == len(current)
    assert sum(r.value or 0 for r in volume.breakdowns["channel"]) == len(current)


def test_backlog_is_a_stock_at_the_period_end(demo_tables: Tables) -> None:
    tickets = demo_tables("tickets")
    solved_at = pd.to_datetime(tickets["solved_at"]).dt.tz_localize("UTC")

    def open_at(end: str) -> pd.Series:
        cutoff = pd.Timestamp(end, tz="UTC")
        return (tickets["created_at"] < cutoff) & (solved_at.isna() | (solved_at >= cutoff))

    result = compute("backlog", tickets, by=["queue"])
    assert result.value == open_at("2026-04-01").sum()
    assert result.previous == open_at("2026-03-01").sum()
    assert sum(r.value or 0 for r in result.breakdowns["queue"]) == result.value
    created = (tickets[PERIOD_COLUMN] == "2026-03").sum()
    solved = ((solved_at >= pd.Timestamp("2026-03-01", tz="UTC"))
              & (solved_at < pd.Timestamp("2026-04-01", tz="UTC"))).sum()
    assert result.details["net_flow"] == created - solved
    ages = result.details["age_buckets"]
    assert sum(b["count"] for b in ages) == result.value
