"""Mean-type audit scores clustered by agent (``cluster_column`` on qa_score / iqs)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from reportgen.metrics import calculator
from reportgen.metrics.clustered_estimates import ClusteredMean
from reportgen.metrics.estimates import Mean
from reportgen.stats import clustered as stats_clustered

AGENTS, AUDITS, ICC, SD, TRUE_MEAN = 20, 15, 0.1, 12.0, 82.0


def scores(rng: np.random.Generator, runs: int) -> np.ndarray:
    """runs x agents x audits QA scores with an intra-agent correlation of ICC."""
    agent = rng.normal(0, SD * np.sqrt(ICC), size=(runs, AGENTS, 1))
    audit = rng.normal(0, SD * np.sqrt(1 - ICC), size=(runs, AGENTS, AUDITS))
    return TRUE_MEAN + agent + audit


def test_the_clustered_variance_is_statsmodels_cluster_robust_one() -> None:
    values = scores(np.random.default_rng(5), 1)[0]
    design = stats_clustered.clustered_mean_design(
        [AUDITS] * AGENTS, values.sum(axis=1), (values**2).sum(axis=1))
    groups = np.repeat(np.arange(AGENTS), AUDITS)
    fit = sm.OLS(values.ravel(), np.ones(values.size)).fit(cov_type="cluster",
                                                           cov_kwds={"groups": groups})
    assert design is not None
    assert design.mean == pytest.approx(values.mean())
    assert design.variance == pytest.approx(max(float(fit.bse[0]) ** 2,
                                                values.var(ddof=1) / values.size), rel=1e-9)


def test_clustered_interval_covers_where_the_plain_t_interval_does_not() -> None:
    """20 agents x 15 audits, ICC 0.1: the design effect is 1 + 14 x 0.1 = 2.4."""
    started = time.perf_counter()
    runs = 1000  # the coverage's own standard error is then 0.007
    data = scores(np.random.default_rng(20261202), runs)
    clustered_hits = plain_hits = 0
    for values in data:
        design = stats_clustered.clustered_mean_design(
            [AUDITS] * AGENTS, values.sum(axis=1), (values**2).sum(axis=1))
        assert design is not None
        low, high = stats_clustered.clustered_t_interval(design, 0.95)
        clustered_hits += low <= TRUE_MEAN <= high
        low, high = sps.t.interval(0.95, values.size - 1, loc=values.mean(),
                                   scale=values.std(ddof=1) / np.sqrt(values.size))
        plain_hits += low <= TRUE_MEAN <= high
    assert clustered_hits / runs >= 0.93
    assert plain_hits / runs < 0.90  # what the plain Student t interval gives on these data
    assert time.perf_counter() - started < 20


def test_clustered_change_test_keeps_its_level() -> None:
    rng = np.random.default_rng(7)
    runs = 1000
    now, before = scores(rng, runs), scores(rng, runs)
    rejected = 0
    for a, b in zip(now, before, strict=True):
        da = stats_clustered.clustered_mean_design([AUDITS] * AGENTS, a.sum(1), (a**2).sum(1))
        db = stats_clustered.clustered_mean_design([AUDITS] * AGENTS, b.sum(1), (b**2).sum(1))
        assert da is not None and db is not None
        _, p = stats_clustered.clustered_mean_ttest(da.mean, da.variance, da.df,
                                                    db.mean, db.variance, db.df)
        rejected += p < 0.05
    assert rejected / runs <= 0.06


def scorecard(seed: int) -> pd.DataFrame:
    """One rated 0-100 category per review, agents differing (ICC about 0.3)."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(AGENTS):
        level = rng.normal(75, 10)
        for r in range(AUDITS):
            rows.append({"review_id": f"A{a}-R{r}", "category": "c", "weight": 1.0,
                         "critical": 0, "rating": float(np.clip(rng.normal(level, 15), 0, 100)),
                         "scale_min": 0.0, "scale_max": 100.0, "agent_id": f"agent{a}"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", ["qa_score", "iqs"])
def test_qa_score_with_a_cluster_column_has_the_same_mean_and_a_wider_interval(name: str) -> None:
    calc = calculator(name)
    frame = scorecard(3)
    plain = calc.estimate(frame, calc.Params.model_validate({}))
    params = calc.Params.model_validate({"cluster_column": "agent_id"})
    clustered = calc.estimate(frame, params)
    assert isinstance(clustered, ClusteredMean) and isinstance(plain, Mean)
    assert not isinstance(plain, ClusteredMean)
    assert clustered.value == pytest.approx(frame["rating"].mean())
    assert clustered.n == plain.n == len(frame)
    assert clustered.variance == pytest.approx(plain.variance)
    assert sorted(clustered.cluster_counts) == [float(AUDITS)] * AGENTS
    wide, narrow = clustered.interval(0.95), plain.interval(0.95)
    assert wide is not None and narrow is not None
    assert wide.low < narrow.low and wide.high > narrow.high
    assert "cluster-robust" in wide.method
    assert "agent_id" in params.columns()
    assert calc.aggregation(params) is None and calc.aggregation(calc.Params()) is not None


def test_clustered_change_is_less_sure_than_the_plain_one() -> None:
    calc = calculator("qa_score")
    clustered = calc.Params.model_validate({"cluster_column": "agent_id"})
    now, before = scorecard(11), scorecard(12)
    plain = calc.estimate(now, calc.Params()).compare(calc.estimate(before, calc.Params()), 0.05)
    robust = calc.estimate(now, clustered).compare(calc.estimate(before, clustered), 0.05)
    assert robust.delta == pytest.approx(plain.delta)
    assert plain.p_value is not None and robust.p_value is not None
    assert robust.p_value > plain.p_value
    assert robust.test == "Welch's t-test (cluster-robust variance)"


def test_iqs_from_a_score_column_clusters_too() -> None:
    calc = calculator("iqs")
    frame = scorecard(4).rename(columns={"rating": "score"})
    params = calc.Params.model_validate({"score_column": "score", "cluster_column": "agent_id"})
    est = calc.estimate(frame, params)
    assert isinstance(est, ClusteredMean)
    assert est.value == pytest.approx(frame["score"].mean())
    assert params.columns() == ["review_id", "score", "agent_id"]


def test_the_methodology_appendix_names_the_clustered_interval_and_test() -> None:
    from insights.test_insights_support import PERIOD, compute, definition, score_rows, window

    from reportgen.report.method_notes import method_note

    history = window(2)
    rng = np.random.default_rng(6)
    frame = score_rows(rng, [(p, "Support", 300, 80.0) for p in history])
    frame["agent_id"] = rng.integers(0, AGENTS, len(frame)).astype(str)
    qa = {"id": "qa", "calculator": "qa_score", "source": "qa", "label": "QA score",
          "params": {"cluster_column": "agent_id"}}
    defn = definition([qa])
    result = compute(defn, {"qa": frame}, history)["qa"]
    note = method_note(result)
    assert result.n == 300 and history[-1] == PERIOD
    assert "Student t on the clusters (cluster-robust variance) 95% interval" in note.test
    assert "Welch's t-test (cluster-robust variance)" in note.test
