"""The engine: suppression, no-data periods, changes, year over year, targets, breakdowns."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support.metric_frames import compute_metric

from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.metrics.verdicts import target_status
from reportgen.period import Period
from reportgen.report.model.metric_results import Interval
from reportgen.stats import intervals, significance

PERIOD = Period(date(2026, 10, 1), "month")
HISTORY = PERIOD.trailing(13)
DEFAULTS = StatisticsSpec()


def spec(calculator: str, **fields: Any) -> MetricSpec:
    return MetricSpec(id=calculator, calculator=calculator, source="s", **fields)


def survey_frame(counts: dict[str, tuple[int, int]], queue_split: float = 0.6) -> pd.DataFrame:
    """Per period key: (satisfied, all) responses, split between two queues."""
    parts = []
    for key, (good, total) in counts.items():
        ratings = np.array([5] * good + [2] * (total - good))
        queue = np.where(np.arange(total) % 10 < queue_split * 10, "Billing", "Shipping")
        parts.append(pd.DataFrame({"rating": ratings, "queue": queue, PERIOD_COLUMN: key}))
    return pd.concat(parts, ignore_index=True)


def test_rate_with_interval_change_and_test() -> None:
    frame = survey_frame({"2026-09": (70, 100), "2026-10": (60, 100)})
    result = compute_metric(spec("csat"), frame, PERIOD, HISTORY, DEFAULTS)
    assert result.value == pytest.approx(0.60)
    assert (result.numerator, result.denominator, result.n) == (60, 100, 100)
    low, high = intervals.wilson_interval(60, 100, 0.95)
    assert result.interval is not None
    assert (result.interval.low, result.interval.high) == pytest.approx((low, high))
    assert result.interval.method == "Wilson"
    change = result.change
    assert change is not None
    assert change.previous == pytest.approx(0.70)
    assert change.delta == pytest.approx(-0.10)  # a fraction: renderers show -10 pts
    z, p = significance.two_proportion_ztest(60, 100, 70, 100)
    assert (change.statistic, change.p_value) == pytest.approx((z, p))
    assert change.test == "two-proportion z-test"
    assert change.significant is (p < 0.05)
    assert change.against == "September 2026"
    yoy = result.year_over_year  # October 2025 is in the history but has no rows
    assert yoy is not None and yoy.previous is None and yoy.delta is None and not yoy.significant


def test_year_over_year_when_the_history_reaches_it() -> None:
    frame = survey_frame({"2025-10": (50, 100), "2026-09": (70, 100), "2026-10": (80, 100)})
    result = compute_metric(spec("csat"), frame, PERIOD, HISTORY, DEFAULTS)
    assert result.year_over_year is not None
    assert result.year_over_year.previous == pytest.approx(0.50)
    assert result.year_over_year.delta == pytest.approx(0.30)
    assert result.year_over_year.significant
    assert result.year_over_year.against == "October 2025"


def test_a_period_without_rows_is_no_data_not_zero() -> None:
    frame = survey_frame({"2026-09": (70, 100)})
    result = compute_metric(spec("csat", target=0.8), frame, PERIOD, HISTORY, DEFAULTS)
    assert result.value is None
    assert result.n == 0
    assert result.suppressed == "no data for October 2026"
    assert result.interval is None and result.status is None
    assert result.change is not None and result.change.delta is None
    assert result.change.previous == pytest.approx(0.70)
    assert [p.suppressed for p in result.history][:-2] == [
        f"no data for {p.label}" for p in HISTORY[:-2]]


def test_min_n_suppresses_with_the_reason_and_keeps_n() -> None:
    frame = survey_frame({"2026-09": (70, 100), "2026-10": (20, 25)})
    result = compute_metric(spec("csat", by=["queue"]), frame, PERIOD, HISTORY, DEFAULTS)
    assert result.value is None and result.interval is None
    assert result.n == 25
    assert result.suppressed == "n = 25 is below the minimum of 30"
    assert result.change is not None and not result.change.significant
    rows = result.breakdowns["queue"]
    assert [r.key for r in rows] == [("Billing",), ("Shipping",)]
    assert all(r.value is None and r.suppressed and "below the minimum" in r.suppressed for r in rows)
    assert sum(r.n for r in rows) == 25  # suppressed, not dropped
    relaxed = compute_metric(spec("csat", min_n=10), frame, PERIOD, HISTORY, DEFAULTS)
    assert relaxed.value == pytest.approx(0.8)


def test_breakdown_rows_add_up_and_carry_their_own_change() -> None:
    frame = survey_frame({"2026-09": (140, 200), "2026-10": (150, 200)})
    result = compute_metric(spec("csat", by=["queue"], min_n=5), frame, PERIOD, HISTORY, DEFAULTS)
    rows = result.breakdowns["queue"]
    assert sum(r.numerator or 0 for r in rows) == result.numerator
    assert sum(r.denominator or 0 for r in rows) == result.denominator
    for row in rows:
        assert row.interval is not None and row.change is not None
        assert row.change.test == "two-proportion z-test"
        assert row.value == pytest.approx((row.numerator or 0) / (row.denominator or 1))


def test_a_segment_new_this_period_has_no_change() -> None:
    frame = survey_frame({"2026-09": (60, 100), "2026-10": (60, 100)})
    frame.loc[(frame[PERIOD_COLUMN] == "2026-10") & (frame["queue"] == "Shipping"), "queue"] = "Returns"
    result = compute_metric(spec("csat", by=["queue"], min_n=5), frame, PERIOD, HISTORY, DEFAULTS)
    returns = next(r for r in result.breakdowns["queue"] if r.key == ("Returns",))
    assert returns.change is None and returns.value is not None


@pytest.mark.parametrize(("value", "interval", "margin", "direction", "expected"), [
    (0.86, None, None, "higher", "on_target"),
    (0.83, (0.80, 0.86), None, "higher", "at_risk"),     # the interval still reaches 0.85
    (0.80, (0.77, 0.83), None, "higher", "off_target"),
    (0.83, None, 0.03, "higher", "at_risk"),
    (0.80, None, 0.03, "higher", "off_target"),
    (0.84, None, None, "lower", "on_target"),            # lower is better: under target is good
    (0.88, (0.84, 0.92), None, "lower", "at_risk"),
    (0.90, (0.87, 0.93), None, "lower", "off_target"),
])
def test_target_status(value: float, interval: tuple[float, float] | None, margin: float | None,
                       direction: str, expected: str) -> None:
    bounds = Interval(*interval, 0.95, "Wilson") if interval else None
    assert target_status(value, 0.85, direction, bounds, margin) == expected  # type: ignore[arg-type]


def test_lower_is_better_metric_through_the_engine() -> None:
    frame = survey_frame({"2026-10": (80, 100)})  # DSAT = 20 / 100
    result = compute_metric(spec("dsat", target=0.25), frame, PERIOD, HISTORY, DEFAULTS)
    assert result.direction == "lower"
    assert result.value == pytest.approx(0.20)
    assert result.status == "on_target"
    overridden = compute_metric(spec("dsat", target=0.25, direction="higher", at_risk_margin=0.01),
                                frame, PERIOD, HISTORY, DEFAULTS)
    assert overridden.status == "off_target"


def test_confidence_and_alpha_are_configurable() -> None:
    frame = survey_frame({"2026-09": (70, 100), "2026-10": (58, 100)})
    loose = compute_metric(spec("csat", confidence=0.8, alpha=0.1), frame, PERIOD, HISTORY, DEFAULTS)
    strict = compute_metric(spec("csat", confidence=0.99, alpha=0.01), frame, PERIOD, HISTORY, DEFAULTS)
    assert loose.interval is not None and strict.interval is not None
    assert loose.interval.level == 0.8
    assert strict.interval.high - strict.interval.low > loose.interval.high - loose.interval.low
    assert loose.p_value == strict.p_value
    assert loose.significant and not strict.significant  # p is about 0.08


def test_quantile_change_uses_moods_test_and_counts_are_exact() -> None:
    rng = np.random.default_rng(5)
    frame = pd.concat([
        pd.DataFrame({"first_response_minutes": rng.exponential(30, 400), PERIOD_COLUMN: "2026-09"}),
        pd.DataFrame({"first_response_minutes": rng.exponential(45, 400), PERIOD_COLUMN: "2026-10"}),
    ])
    result = compute_metric(spec("first_response_time"), frame, PERIOD, HISTORY, DEFAULTS)
    assert result.change is not None and result.change.test == "Mood's median test"
    assert result.unit == "minutes" and result.direction == "lower"
    assert result.interval is not None and result.interval.low < result.value < result.interval.high
    small = compute_metric(spec("volume"), frame.iloc[:3].assign(**{PERIOD_COLUMN: "2026-10"}),
                           PERIOD, HISTORY, DEFAULTS)
    assert small.value == 3 and small.suppressed is None  # counts are exact: no minimum n


def test_to_date_scope_sees_earlier_periods() -> None:
    frame = pd.DataFrame({
        "created_at": pd.to_datetime(["2026-08-10", "2026-09-05", "2026-09-20", "2026-10-02"]).tz_localize("UTC"),
        "solved_at": [None, "2026-10-05 10:00:00", "2026-09-25 09:00:00", None],
        "queue": ["A", "A", "B", "B"],
    })
    frame[PERIOD_COLUMN] = frame["created_at"].dt.strftime("%Y-%m")
    result = compute_metric(spec("backlog", by=["queue"]), frame, PERIOD, HISTORY, DEFAULTS)
    assert result.value == 2  # the August ticket and the October one; September's both solved by then
    assert result.change is not None and result.change.previous == 2  # August + the one solved in October
    assert {r.key: r.value for r in result.breakdowns["queue"]} == {("A",): 1, ("B",): 1}
    assert result.details["net_flow"] == 1 - 1  # one created, one solved in October
