"""kpi_anomaly: a KPI's expected band from a seasonal baseline, with a stated false-alarm rate.

The band is checked against the normal equations solved here with NumPy and SciPy's t
quantiles (and a closed form at 13 periods); its false-alarm rate and power are measured on
seeded simulated series; the engine and the finding are run end to end.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from support.metric_frames import compute_metric
from support.plans import plan_of

from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.definition.document import Definition
from reportgen.insights import build_insights
from reportgen.insights.text import CHANGE_WORDS
from reportgen.metrics import calculator
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.metrics.forecast import seasonal_band
from reportgen.period import Period

PERIOD = Period(date(2026, 10, 1), "month")
SEED = 20261023


def _design(positions: np.ndarray, season: int, trend: bool) -> np.ndarray:
    """Constant, seasonal dummies (season 0 is the reference) and the position, by hand."""
    columns = [np.ones(len(positions))]
    if trend:
        columns.append(positions.astype(float))
    columns += [(positions % season == s).astype(float) for s in range(1, season)]
    return np.column_stack(columns)


def _band_by_hand(values: np.ndarray, season: int, trend: bool, rate: float
                  ) -> tuple[float, float, float]:
    n = len(values)
    x = _design(np.arange(n), season, trend)
    x0 = _design(np.array([n]), season, trend)[0]
    beta, *_ = np.linalg.lstsq(x, values, rcond=None)
    df = n - np.linalg.matrix_rank(x)
    s2 = float(np.sum((values - x @ beta) ** 2) / df)
    spread = np.sqrt(s2 * (1 + x0 @ np.linalg.pinv(x.T @ x) @ x0))
    centre = float(x0 @ beta)
    q = sps.t.ppf(1 - rate / 2, df)
    return centre, centre - q * spread, centre + q * spread


def _seasonal_series(rng: np.random.Generator, count: int, length: int, *,
                     trend: bool) -> np.ndarray:
    """``count`` null series: level, a fixed seasonal pattern, optionally a linear trend,
    independent normal noise (sd 0.02, the month-to-month noise of a CSAT of ~85%)."""
    level = rng.uniform(0.75, 0.9, (count, 1))
    pattern = rng.normal(0, 0.03, (count, 12))
    t = np.arange(length)
    slope = rng.normal(0, 0.002, (count, 1)) if trend else np.zeros((count, 1))
    return level + pattern[:, t % 12] + slope * t + rng.normal(0, 0.02, (count, length))


def test_thirteen_periods_give_the_seasonal_naive_band() -> None:
    # With 13 earlier months and a season of 12, the fit has one residual degree of
    # freedom: the forecast is the same month last year, y[1], and the prediction error's
    # variance is 2 sigma^2, estimated by (y[0] - y[12])^2 / 2.
    values = np.array([0.84, 0.80, 0.83, 0.85, 0.86, 0.82, 0.81, 0.87, 0.85, 0.84, 0.83,
                       0.86, 0.87])
    band = seasonal_band(list(values), 0.79, season=12, false_alarm_rate=0.01)
    half = sps.t.ppf(0.995, 1) * abs(values[0] - values[12])
    assert band["band"] and band["df"] == 1 and band["trend"] is False
    assert band["expected"] == pytest.approx(values[1])
    assert (band["low"], band["high"]) == pytest.approx((values[1] - half, values[1] + half))


@pytest.mark.parametrize(("length", "trend"), [(24, True), (30, True), (20, False)])
def test_band_matches_the_normal_equations(length: int, trend: bool) -> None:
    rng = np.random.default_rng(SEED + length)
    values = _seasonal_series(rng, 1, length, trend=True)[0]
    band = seasonal_band(list(values), None, season=12, false_alarm_rate=0.05)
    assert band["trend"] is trend  # 'auto': a trend from two full seasons on
    centre, low, high = _band_by_hand(values, 12, trend, 0.05)
    assert (band["expected"], band["low"], band["high"]) == pytest.approx((centre, low, high))


def test_missing_periods_are_left_out_not_filled() -> None:
    rng = np.random.default_rng(SEED)
    values = _seasonal_series(rng, 1, 26, trend=False)[0]
    gappy: list[float | None] = list(values)
    gappy[5] = None
    band = seasonal_band(gappy, None, season=12, false_alarm_rate=0.05)
    kept = np.delete(np.arange(26), 5)
    x = _design(kept, 12, True)
    x0 = _design(np.array([26]), 12, True)[0]
    beta, *_ = np.linalg.lstsq(x, values[kept], rcond=None)
    assert band["periods"] == 25
    assert band["expected"] == pytest.approx(float(x0 @ beta))


def _false_alarms(series: np.ndarray, rate: float) -> int:
    return sum(bool(seasonal_band(list(s[:-1]), float(s[-1]), season=12,
                                  false_alarm_rate=rate)["outside"]) for s in series)


@pytest.mark.parametrize(("length", "trend", "count", "rate"), [
    (13, False, 600, 0.05),   # the shortest baseline: no trend, 1 residual df
    (24, True, 1500, 0.01),   # two seasons and a trend, 11 df, the default rate
    (36, True, 600, 0.05),
])
def test_false_alarm_rate_on_null_seasonal_data(length: int, trend: bool, count: int,
                                                rate: float) -> None:
    # Nothing unusual happens in the last period, so every flag is a false alarm.  The band
    # is exact under this model, so the number of alarms is Binomial(count, rate): the
    # bound is its 99.9% quantile (a correct band fails this with probability <= 0.001).
    rng = np.random.default_rng(SEED + length)
    series = _seasonal_series(rng, count, length + 1, trend=trend)
    alarms = _false_alarms(series, rate)
    bound = sps.binom.ppf(0.999, count, rate)
    assert alarms <= bound, f"{alarms} of {count} null series flagged (bound {bound:.0f})"
    # and not a band so wide that it never fires (half the expected count at most)
    assert alarms >= sps.binom.ppf(0.001, count, rate)


def test_a_planted_anomaly_is_found_as_often_as_theory_says() -> None:
    # A shift of 6 noise sd in the current month, 24 months of baseline with a trend: the
    # standardised prediction error is non-central t (df 11, ncp = shift / sqrt(1 + h)),
    # which gives the power independently of the band's code.
    rng = np.random.default_rng(SEED)
    count, length, shift, rate = 400, 24, 6 * 0.02, 0.01
    series = _seasonal_series(rng, count, length + 1, trend=True)
    series[:, -1] += shift
    found = _false_alarms(series, rate)
    x = _design(np.arange(length), 12, True)
    x0 = _design(np.array([length]), 12, True)[0]
    leverage = float(x0 @ np.linalg.inv(x.T @ x) @ x0)
    df = length - x.shape[1]
    q = sps.t.ppf(1 - rate / 2, df)
    ncp = shift / 0.02 / np.sqrt(1 + leverage)
    power = sps.nct.sf(q, df, ncp) + sps.nct.cdf(-q, df, ncp)
    assert found / count == pytest.approx(power, abs=4 * np.sqrt(power * (1 - power) / count))
    assert found / count >= 0.8


def test_fewer_than_thirteen_periods_give_no_band() -> None:
    values = [0.8] * 6 + [None] * 2 + [0.82] * 6  # 12 values
    band = seasonal_band(values, 0.5, season=12, false_alarm_rate=0.01)
    assert band == {"periods": 12, "min_periods": 13, "season": 12, "false_alarm_rate": 0.01,
                    "band": False, "reason": "history"}
    assert seasonal_band([], 0.5, season=12, false_alarm_rate=0.01)["band"] is False


def test_params_refuse_a_short_minimum_and_unknown_kpis() -> None:
    params = calculator("kpi_anomaly").Params
    with pytest.raises(ValueError, match="greater than or equal to 13"):
        params.model_validate({"kpi": "csat", "min_periods": 12})
    with pytest.raises(ValueError, match="did you mean 'csat'"):
        params.model_validate({"kpi": "csta"})
    with pytest.raises(ValueError, match="stock"):
        params.model_validate({"kpi": "backlog"})


# --- through the engine and the findings ------------------------------------------------


def _survey(rates: dict[Period, float], n: int = 400) -> pd.DataFrame:
    """Exactly ``round(n x rate)`` satisfied answers (5) of ``n`` per period, else 2."""
    parts = []
    for period, rate in rates.items():
        good = int(round(n * rate))
        parts.append(pd.DataFrame({"rating": [5] * good + [2] * (n - good),
                                   PERIOD_COLUMN: period.key}))
    return pd.concat(parts, ignore_index=True)


def _metric(months: int, last: float) -> tuple[Any, dict[Period, float], pd.DataFrame]:
    history = PERIOD.trailing(months)
    rng = np.random.default_rng(SEED)
    season = rng.normal(0, 0.03, 12)
    rates = {p: 0.85 + season[p.start.month - 1] + rng.normal(0, 0.01) for p in history}
    rates[PERIOD] = last
    frame = _survey(rates)
    spec = MetricSpec(id="csat_band", calculator="kpi_anomaly", source="survey",
                      label="CSAT", params={"kpi": "csat"})
    return compute_metric(spec, frame, PERIOD, history, StatisticsSpec()), rates, frame


def _definition(metric: dict[str, Any], months: int) -> Definition:
    return Definition.model_validate({
        "id": "forecast-test", "title": "Forecast test",
        "period": {"grain": "month", "history": months},
        "sources": {"survey": {"kind": "csv", "path": "unused.csv", "time_column": "created"}},
        "metrics": [metric],
        "sections": [{"id": "main", "title": "Main", "kpis": [metric["id"]]}]})


def test_engine_gives_the_kpi_and_its_band() -> None:
    result, rates, _ = _metric(25, 0.70)
    shown = [round(rates[p] * 400) / 400 for p in PERIOD.trailing(25)]
    assert result.value == pytest.approx(shown[-1])
    assert result.unit == "percent" and result.direction == "higher"
    band = result.details["anomaly"]
    centre, low, high = _band_by_hand(np.array(shown[:-1]), 12, True, 0.01)
    assert (band["expected"], band["low"], band["high"]) == pytest.approx((centre, low, high))
    assert band["outside"] is True and band["value"] == pytest.approx(shown[-1])


def test_finding_states_the_band_rate_and_p_value() -> None:
    result, _, frame = _metric(25, 0.70)
    metric = {"id": "csat_band", "calculator": "kpi_anomaly", "source": "survey",
              "label": "CSAT", "params": {"kpi": "csat"}}
    findings = build_insights(plan_of(_definition(metric, 25)), {"csat_band": result},
                              {"survey": frame}, PERIOD, PERIOD.trailing(25))
    found = [f for f in findings if f.kind == "anomaly"]
    assert len(found) == 1
    band = result.details["anomaly"]
    low, high = (f"{band['low'] * 100:.1f}", f"{band['high'] * 100:.1f}")
    assert found[0].sentence.startswith("CSAT was unusually low in October 2026: 70.0%, ")
    assert f"below its expected range of {low}–{high}%" in found[0].sentence
    assert "An ordinary month falls outside this range 1% of the time (p " in found[0].sentence
    assert found[0].direction == "declined" and found[0].numbers["significant"] is True


def test_an_ordinary_month_is_within_its_range_and_claims_nothing() -> None:
    result, rates, frame = _metric(25, 0.0)
    ordinary = _metric(25, result.details["anomaly"]["expected"])
    metric = {"id": "csat_band", "calculator": "kpi_anomaly", "source": "survey",
              "label": "CSAT", "params": {"kpi": "csat"}}
    findings = build_insights(plan_of(_definition(metric, 25)), {"csat_band": ordinary[0]},
                              {"survey": ordinary[2]}, PERIOD, PERIOD.trailing(25))
    (found,) = [f for f in findings if f.metric_id == "csat_band"
                and f.kind.endswith("expected_range")]
    assert found.kind == "within_expected_range"
    assert "is within its expected range of" in found.sentence
    words = {w.strip(".,;():").lower() for w in found.sentence.split()}
    assert not words & set(CHANGE_WORDS)


def test_short_history_says_so_plainly() -> None:
    result, _, frame = _metric(13, 0.70)  # 12 earlier months: no band, no crash
    assert result.details["anomaly"]["band"] is False
    metric = {"id": "csat_band", "calculator": "kpi_anomaly", "source": "survey",
              "label": "CSAT", "params": {"kpi": "csat"}}
    findings = build_insights(plan_of(_definition(metric, 13)), {"csat_band": result},
                              {"survey": frame}, PERIOD, PERIOD.trailing(13))
    (found,) = [f for f in findings if f.kind == "no_expected_range"]
    assert found.sentence == (
        "No expected range for CSAT in October 2026: 12 earlier months with a value, and a "
        "seasonal baseline needs at least 13 (the report must load 14 months of history or "
        "more).")
    assert not [f for f in findings if f.kind == "anomaly"]
