"""QA rates and scores are clustered by agent by default when the source declares an agent
column, defect rows by review (or agent); the default intervals keep their level on
clustered audits (seeded simulations), and the design effect is stated in the methodology."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from support.metric_frames import compute_metric
from support.plans import metric_plan

from reportgen.definition.content_specs import MetricSpec, SourceSpec, StatisticsSpec
from reportgen.metrics.clustered_estimates import ClusteredMean, ClusteredProportion
from reportgen.metrics.engine import ResolvedMetric

ICC = 0.1
QA_SOURCE = SourceSpec(kind="csv", path="qa.csv", time_column="reviewed_at",
                       columns={"review_id": "str", "rating": "float", "agent_id": "str"})
PLAIN_SOURCE = SourceSpec(kind="csv", path="qa.csv", time_column="reviewed_at",
                          columns={"review_id": "str", "rating": "float"})


def plan(name: str, source: SourceSpec | None = QA_SOURCE, **params: Any) -> ResolvedMetric:
    spec = MetricSpec(id=name, calculator=name, source="qa", params=params)
    return metric_plan(spec, StatisticsSpec(), source)


def beta_rates(rng: np.random.Generator, mean: float, agents: int) -> np.ndarray:
    """Agents' true rates around ``mean`` with intra-agent correlation ICC (Beta, a + b =
    1 / ICC - 1)."""
    total = 1 / ICC - 1
    return rng.beta(mean * total, (1 - mean) * total, size=agents)


def scorecard(agent: np.ndarray, rating: np.ndarray, low: float, high: float,
              categories: int = 1) -> pd.DataFrame:
    """Scorecard rows, ``categories`` per review, one agent per review."""
    return pd.DataFrame({
        "review_id": np.arange(len(agent)) // categories,
        "category": np.arange(len(agent)) % categories,
        "weight": 1.0, "critical": 0, "rating": rating, "scale_min": low, "scale_max": high,
        "agent_id": agent})


def pass_audits(rng: np.random.Generator, agents: int, per_agent: int) -> tuple[pd.DataFrame,
                                                                                 float]:
    truth = 0.8
    rates = beta_rates(rng, truth, agents)
    agent = np.repeat(np.arange(agents), per_agent)
    return scorecard(agent, (rng.random(agent.size) < rates[agent]).astype(float), 0, 1), truth


def score_audits(rng: np.random.Generator, agents: int, per_agent: int) -> tuple[pd.DataFrame,
                                                                                  float]:
    truth, sd = 70.0, 6.0
    effect = rng.normal(0, sd * np.sqrt(ICC), agents)
    agent = np.repeat(np.arange(agents), per_agent)
    rating = truth + effect[agent] + rng.normal(0, sd * np.sqrt(1 - ICC), agent.size)
    return scorecard(agent, rating, 0, 100), truth


def defect_audits(rng: np.random.Generator, agents: int, per_agent: int) -> tuple[pd.DataFrame,
                                                                                   float]:
    """Four categories rated 1-4 per review; 2 is a defect (at or below 50), 3 is not."""
    truth, categories = 0.2, 4
    rates = beta_rates(rng, truth, agents)
    agent = np.repeat(np.arange(agents), per_agent * categories)
    defect = rng.random(agent.size) < rates[agent]
    return scorecard(agent, np.where(defect, 2.0, 3.0), 1, 4, categories), truth


def agent_sums(frame: pd.DataFrame, value: pd.Series) -> tuple[tuple[float, ...], ...]:
    """Per agent: (count, sum, sum of squares) of ``value``, computed with pandas."""
    grouped = value.groupby(frame["agent_id"], sort=True)
    return tuple(tuple(float(v) for v in column) for column in
                 (grouped.size(), grouped.sum(), (value**2).groupby(frame["agent_id"],
                                                                     sort=True).sum()))


def estimate_of(name: str, frame: pd.DataFrame) -> Any:
    """The estimate the calculator returns by default, built here from pandas' per-agent
    sums (the calculators' own sums are checked against these below)."""
    if name == "qa_score":
        return ClusteredMean.of_clusters(*agent_sums(frame, frame["rating"]))
    value = frame["rating"] >= 0.5 if name == "pass_rate" else frame["rating"] <= 2
    counts, sums, _ = agent_sums(frame, value.astype(float))
    return ClusteredProportion(sum(sums), sum(counts), cluster_successes=sums,
                               cluster_trials=counts)


CASES = {"pass_rate": (pass_audits, {"pass_from": 50}), "qa_score": (score_audits, {}),
         "defect_rate": (defect_audits, {})}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_calculators_default_estimate_is_the_clustered_one(name: str) -> None:
    make, params = CASES[name]
    metric = plan(name, **params)
    for seed in range(3):
        frame, _ = make(np.random.default_rng(seed), 12, 10)
        found, expected = metric.calc.estimate(frame, metric.params), estimate_of(name, frame)
        assert type(found) is type(expected)
        assert found.value == pytest.approx(expected.value)
        got, wanted = found.interval(0.95), expected.interval(0.95)
        assert (got.low, got.high) == pytest.approx((wanted.low, wanted.high))


@pytest.mark.parametrize("design", [(20, 15), (5, 60)], ids=["20x15", "5x60"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_default_interval_covers_on_clustered_audits(name: str, design: tuple[int, int]) -> None:
    """ICC 0.1 between an agent's audits, 1,000 seeded samples: the default interval covers
    at least 93% (unclustered it covered 79-88% at 20 x 15 and 54% at 5 x 60)."""
    make, _ = CASES[name]
    rng = np.random.default_rng(20_261_001 + design[0])
    samples, covered = 1000, 0
    for _ in range(samples):
        frame, truth = make(rng, *design)
        found = estimate_of(name, frame).interval(0.95)
        covered += found.low <= truth <= found.high
    print(f"{name} {design}: coverage {covered / samples:.3f}")
    assert covered / samples >= 0.93


def test_an_agent_column_in_the_contract_clusters_qa_rates_and_scores() -> None:
    for name in ("qa_score", "iqs", "pass_rate", "auto_fail_rate", "defect_rate"):
        assert plan(name).params.cluster_column == "agent_id", name
        assert plan(name, PLAIN_SOURCE).params.cluster_column is None, name
        assert "agent_id" in plan(name).columns()
    frame, _ = pass_audits(np.random.default_rng(3), 12, 10)
    assert isinstance(plan("pass_rate").calc.estimate(frame, plan("pass_rate").params),
                      ClusteredProportion)
    frame, _ = score_audits(np.random.default_rng(3), 12, 10)
    assert isinstance(plan("qa_score").calc.estimate(frame, plan("qa_score").params),
                      ClusteredMean)


def test_defect_rows_are_clustered_by_review_without_an_agent_column() -> None:
    frame, _ = defect_audits(np.random.default_rng(5), 10, 8)
    metric = plan("defect_rate", PLAIN_SOURCE)
    found = metric.calc.estimate(frame, metric.params)
    assert isinstance(found, ClusteredProportion)
    assert len(found.cluster_trials) == frame["review_id"].nunique()
    assert set(found.cluster_trials) == {4.0}


def test_turning_clustering_off_says_why() -> None:
    reason = "each agent is audited once a month"
    off = plan("pass_rate", unclustered_because=reason)
    assert off.params.cluster_column is None
    assert reason in off.calc.describe(off.params)
    with pytest.raises(ValidationError, match="unclustered_because"):
        plan("pass_rate", cluster_column=None)
    with pytest.raises(ValidationError, match="not both"):
        plan("qa_score", cluster_column="agent_id", unclustered_because=reason)


def test_the_methodology_states_the_design_effect() -> None:
    from datetime import date

    from reportgen.metrics.engine import PERIOD_COLUMN
    from reportgen.period import Period

    frame, _ = pass_audits(np.random.default_rng(9), 20, 15)
    frame[PERIOD_COLUMN] = "2026-09"
    spec = MetricSpec(id="pass_rate", calculator="pass_rate", source="qa",
                      params={"pass_from": 50, "cluster_column": "agent_id"})
    period = Period(date(2026, 9, 1), "month")
    result = compute_metric(spec, frame, period, period.trailing(2), StatisticsSpec())
    by_agent = frame.groupby("agent_id")["rating"]
    successes, trials = by_agent.sum().to_numpy(), by_agent.size().to_numpy()
    p = successes.sum() / trials.sum()
    groups = len(trials)
    robust = groups / (groups - 1) * ((successes - p * trials) ** 2).sum() / trials.sum() ** 2
    effect = max(robust / (p * (1 - p) / trials.sum()), 1.0)
    assert f"(design effect {effect:.2f}, 20 clusters)" in result.formula
    assert "clustered by agent_id" in result.formula


def test_a_clustered_rate_of_200_agents_takes_one_statement() -> None:
    frame, _ = pass_audits(np.random.default_rng(4), 200, 15)
    metric = plan("pass_rate", pass_from=50)
    metric.calc.estimate(frame, metric.params)  # warm the engine up
    started = time.perf_counter()
    found = metric.calc.estimate(frame, metric.params)
    assert time.perf_counter() - started < 1.0
    assert isinstance(found, ClusteredProportion) and len(found.cluster_trials) == 200
