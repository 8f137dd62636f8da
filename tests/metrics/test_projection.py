"""target_projection: the quarter's (or year's) value projected, with a prediction interval,
and the finding's on track / at risk / unlikely.

The interval is checked against statsmodels' own one-step prediction interval and against
the textbook formula from scipy's linregress; its coverage is measured on seeded simulated
series; the sentences are checked on hand-made months whose answer is plain.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from support.metric_frames import compute_metric
from support.plans import plan_of

from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.definition.document import Definition
from reportgen.insights import build_insights
from reportgen.insights.forecast import projection_status, reach_chance
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.metrics.forecast import project_mean, project_means
from reportgen.period import Period

SEED = 20261024


def test_one_month_left_is_statsmodels_one_step_interval() -> None:
    # With one month to come, the quarter's mean is (two known months + next month) / 3:
    # its interval is statsmodels' prediction interval for the next value, shifted and /3.
    rng = np.random.default_rng(SEED)
    window = list(0.85 + 0.002 * np.arange(12) + rng.normal(0, 0.01, 12))
    found = project_mean(window, window[-2:], 1, confidence=0.9)
    x = sm.add_constant(np.arange(12.0))
    frame = sm.OLS(np.array(window), x).fit().get_prediction(np.array([[1.0, 12.0]])) \
        .summary_frame(alpha=0.1)
    known = sum(window[-2:])
    assert found["projected"] == pytest.approx((known + frame["mean"][0]) / 3)
    assert found["low"] == pytest.approx((known + frame["obs_ci_lower"][0]) / 3)
    assert found["high"] == pytest.approx((known + frame["obs_ci_upper"][0]) / 3)
    assert found["df"] == 10


def test_two_months_left_follow_the_textbook_formula() -> None:
    # Mean of m future values of a simple regression: variance
    # s^2 (1/m + 1/n + (x_f - x_mean)^2 / Sxx), x_f the future positions' mean.
    rng = np.random.default_rng(SEED + 1)
    n, m = 10, 2
    window = 0.9 - 0.003 * np.arange(n) + rng.normal(0, 0.015, n)
    found = project_mean(list(window), [float(window[-1])], m, confidence=0.8)
    fit = sps.linregress(np.arange(n), window)
    s2 = np.sum((window - fit.intercept - fit.slope * np.arange(n)) ** 2) / (n - 2)
    x = np.arange(n)
    x_future = (n + n + 1) / 2
    future = fit.intercept + fit.slope * x_future
    var = s2 * (1 / m + 1 / n + (x_future - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2))
    projected = (window[-1] + m * future) / 3
    half = sps.t.ppf(0.9, n - 2) * (m / 3) * np.sqrt(var)
    assert (found["projected"], found["low"], found["high"]) == pytest.approx(
        (projected, projected - half, projected + half))


def test_level_model_is_the_window_mean() -> None:
    window = [0.80, 0.84, 0.82, 0.86, 0.83, 0.81]
    found = project_mean(window, [0.83], 2, model="level", confidence=0.9)
    mean, s2, n = np.mean(window), np.var(window, ddof=1), len(window)
    half = sps.t.ppf(0.95, n - 1) * (2 / 3) * np.sqrt(s2 * (1 / 2 + 1 / n))
    assert found["projected"] == pytest.approx((0.83 + 2 * mean) / 3)
    assert found["high"] - found["projected"] == pytest.approx(half)


def test_a_finished_quarter_is_its_mean() -> None:
    found = project_mean([0.8] * 5 + [0.9], [0.8, 0.85, 0.9], 0)
    assert found == {"closed": True, "projected": pytest.approx(0.85), "low": pytest.approx(0.85),
                     "high": pytest.approx(0.85), "se": 0.0, "df": None, "fitted": 6}


@pytest.mark.parametrize("model", ["trend", "level"])
def test_each_interval_is_statsmodels_prediction_of_a_mean_of_future_values(model: str) -> None:
    # The mean of m future values is one future value with weight m (noise variance
    # scale / m): statsmodels' obs interval with weights=m, on windows with gaps too.
    rng = np.random.default_rng(SEED + 2)
    for _ in range(60):
        n, m = int(rng.integers(6, 13)), int(rng.integers(1, 3))
        window: list[float | None] = list(0.8 + 0.003 * np.arange(n) + rng.normal(0, 0.02, n))
        for gap in rng.choice(n - 1, size=int(rng.integers(0, 3)), replace=False):
            window[gap] = None
        elapsed = [float(v) for v in rng.uniform(0.7, 0.9, 3 - m)]
        found = project_mean(window, elapsed, m, model=model, confidence=0.9)  # type: ignore[arg-type]
        at = np.array([i for i, v in enumerate(window) if v is not None], dtype=float)
        design = sm.add_constant(at) if model == "trend" else np.ones((len(at), 1))
        centre = [[1.0, n + (m - 1) / 2]] if model == "trend" else [[1.0]]
        frame = sm.OLS(np.array([v for v in window if v is not None]), design).fit() \
            .get_prediction(np.array(centre), weights=m).summary_frame(alpha=0.1)
        expected = [(sum(elapsed) + m * frame[key][0]) / 3
                    for key in ("obs_ci_lower", "mean", "obs_ci_upper")]
        assert [found["low"], found["projected"], found["high"]] == pytest.approx(expected,
                                                                                abs=1e-12)
        assert found["df"] == len(at) - design.shape[1]


#: simulated series per (model, fit window, months to come): 100,000 in all
SERIES = 12500


def _coverage(model: str, n: int, remaining: int, rng: np.random.Generator,
              interval: Any = None) -> np.ndarray:
    """For each of SERIES series from the model (a level, and a slope for 'trend', with
    independent normal noise), the chance that the quarter's true mean falls inside its
    projected interval, given the fitted window: the months to come are normal around the
    true line, so the chance is exact (Rao-Blackwell), with less noise than a hit or miss."""
    elapsed = 3 - remaining
    level = rng.uniform(0.7, 0.9, SERIES)
    slope = rng.normal(0, 0.004, SERIES) if model == "trend" else np.zeros(SERIES)
    sd = rng.uniform(0.005, 0.03, SERIES)
    t = np.arange(n)
    window = level[:, None] + slope[:, None] * t + sd[:, None] * rng.standard_normal((SERIES, n))
    ahead = np.arange(n, n + remaining)
    found = project_means(t, window, window[:, n - elapsed:], ahead, model=model,  # type: ignore[arg-type]
                          confidence=0.9)
    low, high = (found["low"], found["high"]) if interval is None else interval(found)
    # the quarter's mean = (known months + sum of the months to come) / 3
    centre = (window[:, n - elapsed:].sum(axis=1) + (level + slope * ahead.mean()) * remaining) / 3
    spread = sd * np.sqrt(remaining) / 3
    return sps.norm.cdf((high - centre) / spread) - sps.norm.cdf((low - centre) / spread)


def _simulated(interval: Any = None) -> tuple[float, float]:
    """Coverage over every (model, window of 6 or 12 months, 1 or 2 months to come) and
    its Monte Carlo standard error."""
    rng = np.random.default_rng(SEED)
    chances = np.concatenate([_coverage(model, n, remaining, rng, interval)
                              for model in ("trend", "level") for n in (6, 12)
                              for remaining in (1, 2)])
    return float(chances.mean()), float(chances.std(ddof=1) / np.sqrt(len(chances)))


def test_coverage_of_the_quarter_mean_is_its_nominal_090() -> None:
    # The interval is exact under the model (checked against statsmodels above), so its
    # coverage is 0.90, not just about: the simulation's estimate must be within 3.3
    # standard errors of 0.90 on either side (a correct interval fails this with
    # probability 0.001), and the standard error is small enough (< 0.0015) that an
    # interval short of 0.90 by 0.005 would fail it.  A z interval in place of the t one
    # (too narrow on 4 to 10 degrees of freedom) is one such.
    coverage, se = _simulated()
    assert se < 0.0015
    assert abs(coverage - 0.90) <= 3.3 * se, f"coverage {coverage:.4f} ± {se:.4f}"

    def z_interval(found: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        half = sps.norm.ppf(0.95) * found["se"]
        return found["projected"] - half, found["projected"] + half

    z_coverage, z_se = _simulated(z_interval)
    assert z_coverage < 0.90 - 3.3 * z_se, f"z coverage {z_coverage:.4f} ± {z_se:.4f}"


@pytest.mark.parametrize(("direction", "low", "high", "target", "status"), [
    ("higher", 0.86, 0.88, 0.85, "on_track"), ("higher", 0.84, 0.88, 0.85, "at_risk"),
    ("higher", 0.80, 0.84, 0.85, "unlikely"), ("lower", 4.0, 4.5, 5.0, "on_track"),
    ("lower", 4.5, 5.5, 5.0, "at_risk"), ("lower", 5.1, 5.5, 5.0, "unlikely"),
])
def test_status_from_the_interval_and_the_target(direction: str, low: float, high: float,
                                                 target: float, status: str) -> None:
    assert projection_status((low + high) / 2, low, high, target, direction) == status


def test_chance_is_the_t_tail_beyond_the_target() -> None:
    assert reach_chance(0.87, 0.01, 10, 0.85, "higher") == pytest.approx(sps.t.sf(-2, 10))
    assert reach_chance(4.0, 0.5, 5, 5.0, "lower") == pytest.approx(sps.t.cdf(2, 5))


# --- hand-made months through the engine and the finding ----------------------------------

OCTOBER = Period(date(2026, 10, 1), "month")
ZIGZAG = [0.85, 0.86] * 6  # a steady 85.5% with a half-point wobble, for 12 months


def _run(rates: dict[Period, float], period: Period, *, target: float | None,
         params: dict[str, Any] | None = None, direction: str | None = None
         ) -> tuple[Any, list[Any]]:
    parts = []
    for p, rate in rates.items():
        good = int(round(400 * rate))
        parts.append(pd.DataFrame({"rating": [5] * good + [2] * (400 - good),
                                   PERIOD_COLUMN: p.key}))
    frame = pd.concat(parts, ignore_index=True)
    metric = {"id": "csat_q", "calculator": "target_projection", "source": "survey",
              "label": "CSAT", "params": {"kpi": "csat", **(params or {})},
              "target": target, "direction": direction}
    history = period.trailing(len(rates))
    result = compute_metric(MetricSpec.model_validate(metric), frame, period, history,
                            StatisticsSpec())
    definition = Definition.model_validate({
        "id": "projection-test", "title": "Projection test",
        "period": {"grain": "month", "history": len(rates)},
        "sources": {"survey": {"kind": "csv", "path": "unused.csv", "time_column": "created"}},
        "metrics": [metric], "sections": [{"id": "main", "title": "Main", "kpis": ["csat_q"]}]})
    findings = build_insights(plan_of(definition), {"csat_q": result}, {"survey": frame},
                              period, history)
    return result, [f for f in findings if f.kind in ("target_projection", "no_projection")]


def _pct(x: float) -> str:
    return f"{x * 100:.1f}"


def _steady(period: Period = OCTOBER) -> dict[Period, float]:
    return dict(zip(period.trailing(12), ZIGZAG, strict=True))


@pytest.mark.parametrize(("target", "status", "opening"), [
    (0.80, "on_track", "CSAT is on track for its 80.0% target for Q4 2026: projected at "),
    (0.95, "unlikely", "CSAT is unlikely to reach its 95.0% target for Q4 2026: projected at "),
    (0.855, "at_risk", "CSAT is at risk of missing its 85.5% target for Q4 2026: projected at "),
])
def test_sentence_on_hand_made_months(target: float, status: str, opening: str) -> None:
    result, (finding,) = _run(_steady(), OCTOBER, target=target)
    projection = result.details["projection"]
    # independent: a straight line through the 12 months, two months to come
    fit = sps.linregress(np.arange(12), ZIGZAG)
    future = fit.intercept + fit.slope * 12.5
    assert projection["projected"] == pytest.approx((0.86 + 2 * future) / 3)
    assert projection["remaining"] == 2 and projection["periods"] == 3
    assert finding.numbers["status"] == status
    interval = f"{_pct(projection['low'])}–{_pct(projection['high'])}%"
    assert finding.sentence.startswith(opening + f"{_pct(projection['projected'])}% (90% "
                                       f"prediction interval {interval}")
    assert finding.sentence.endswith(
        "from October 2026's 86.0% and the trend of the last 12 months.")
    chance = finding.numbers["chance"]
    if status == "at_risk":  # the target is inside the interval
        assert chance == pytest.approx(
            sps.t.sf((target - (0.86 + 2 * future) / 3) / projection["se"], 10))
        assert 0.05 < chance < 0.95
        assert f"which includes the target; chance of reaching it {chance:.0%})" in \
            finding.sentence
    else:
        assert ("chance of reaching it over 99%)" if status == "on_track" else
                "chance of reaching it under 1%)") in finding.sentence


def test_lower_is_better_turns_the_verdict() -> None:
    _, (finding,) = _run(_steady(), OCTOBER, target=0.80, direction="lower")
    assert finding.numbers["status"] == "unlikely"
    assert finding.sentence.startswith("CSAT is unlikely to reach its 80.0% target for Q4 2026")


def test_a_finished_quarter_is_stated_against_the_target() -> None:
    december = Period(date(2026, 12, 1), "month")
    rates = dict(zip(december.trailing(12), ZIGZAG, strict=True))
    _, (finding,) = _run(rates, december, target=0.86)
    # October 0.85, November 0.86, December 0.86: the quarter's mean is 85.7%
    assert finding.sentence == ("CSAT ended Q4 2026 at 85.7% (the mean of its 3 months), "
                                "0.3 points below its 86.0% target.")
    assert finding.numbers["status"] == "missed"


def test_a_year_horizon_and_too_little_history() -> None:
    result, (finding,) = _run(_steady(), OCTOBER, target=0.8, params={"horizon": "year"})
    assert result.details["projection"]["periods"] == 12
    assert result.details["projection"]["remaining"] == 2
    assert finding.sentence.startswith("CSAT is on track for its 80.0% target for 2026: ")
    assert "from the 10 months so far (mean " in finding.sentence
    short = dict(list(_steady().items())[-4:])
    _, (none,) = _run(short, OCTOBER, target=0.8)
    assert none.kind == "no_projection"
    assert none.sentence == ("No projection of CSAT for the quarter: 4 recent months with a "
                             "value, and the projection needs at least 6.")
    _, (month,) = _run(_steady(), OCTOBER, target=0.8, params={"horizon": "month"})
    assert month.sentence == ("No projection of CSAT: a month is not longer than the "
                              "report's month, so there is nothing left to project.")
