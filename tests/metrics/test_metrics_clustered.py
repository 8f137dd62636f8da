"""Pass and auto-fail rates of audits clustered by agent (``cluster_column``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportgen.metrics import calculator
from reportgen.metrics.clustered_estimates import ClusteredProportion
from reportgen.metrics.estimates import Proportion
from reportgen.period import Period
from reportgen.stats import clustered_proportions


def audits(seed: int, agents: int = 12, per_agent: int = 15) -> pd.DataFrame:
    """One rated category per review (0-1 scale): 1 passes, 0 fails; agents differ a lot."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(agents):
        rate = rng.uniform(0.4, 0.98)
        for r in range(per_agent):
            rows.append({"review_id": f"A{a}-R{r}", "category": "c", "weight": 1.0,
                         "critical": 0, "rating": float(rng.random() < rate), "scale_min": 0.0,
                         "scale_max": 1.0, "agent_id": f"agent{a}"})
    return pd.DataFrame(rows)


def estimate(frame: pd.DataFrame, **params: object) -> Proportion:
    calc = calculator("pass_rate")
    est = calc.estimate(frame, calc.Params.model_validate({"pass_from": 50, **params}))
    assert isinstance(est, Proportion)
    return est


def test_clustered_pass_rate_has_the_same_value_and_a_wider_interval() -> None:
    frame = audits(1)
    plain = estimate(frame)
    clustered = estimate(frame, cluster_column="agent_id")
    assert isinstance(clustered, ClusteredProportion) and not isinstance(plain,
                                                                         ClusteredProportion)
    assert (clustered.successes, clustered.trials) == (plain.successes, plain.trials)
    by_agent = frame.groupby("agent_id")["rating"]
    assert sorted(clustered.cluster_trials) == sorted(by_agent.size().astype(float).tolist())
    assert sorted(clustered.cluster_successes) == sorted(by_agent.sum().tolist())
    wide, narrow = clustered.interval(0.95), plain.interval(0.95)
    assert wide is not None and narrow is not None
    assert wide.low < narrow.low and wide.high > narrow.high
    design = clustered_proportions.cluster_design(clustered.cluster_successes, clustered.cluster_trials)
    assert design is not None and design.design_effect > 1.5  # agents differ: deff well above 1
    assert "effective n" in wide.method


def test_clustered_change_test_is_less_sure_than_the_plain_one() -> None:
    now, before = audits(2), audits(3)
    plain = estimate(now).compare(estimate(before), 0.05)
    clustered = estimate(now, cluster_column="agent_id").compare(
        estimate(before, cluster_column="agent_id"), 0.05)
    assert plain.p_value is not None and clustered.p_value is not None
    assert clustered.p_value > plain.p_value
    assert clustered.delta == pytest.approx(plain.delta)
    assert clustered.test == "two-proportion z-test (design-effect corrected)"


def test_cluster_column_is_a_declared_column_and_unclustered_rates_aggregate() -> None:
    calc = calculator("auto_fail_rate")
    params = calc.Params.model_validate({"cluster_column": "agent_id"})
    assert "agent_id" in params.columns()
    assert calc.aggregation(params) is None  # the rows path: per-agent sums are needed
    assert calc.aggregation(calc.Params.model_validate({})) is not None


@pytest.mark.parametrize("name", ["pass_rate", "auto_fail_rate", "qa_score", "iqs",
                                  "defect_rate"])
@pytest.mark.parametrize("by", [["queue"], ["queue", "site"]])
def test_every_group_at_once_equals_each_group_on_its_own(name: str, by: list[str]) -> None:
    """A breakdown's clustered estimates come from one statement grouped by segment and
    agent; each equals the estimate over that segment's rows alone, exactly, including a
    blank segment and audits with no agent."""
    rng = np.random.default_rng(11)
    frame = audits(4, agents=9, per_agent=14)
    frame["critical"] = (rng.random(len(frame)) < 0.1).astype(int)
    frame["queue"] = rng.choice(np.array(["Billing", "Chat", None], dtype=object), len(frame))
    frame["site"] = rng.choice(["Lisbon", "Manila"], len(frame))
    frame.loc[rng.random(len(frame)) < 0.1, "agent_id"] = None
    calc = calculator(name)
    params = calc.for_source(calc.Params.model_validate({}), set(frame.columns))
    assert getattr(params, "cluster_column", None) == "agent_id"
    period = Period.parse("2026-09", "month", "UTC")
    groups = frame.groupby(by, sort=True, observed=True, dropna=False)
    together = list(calc.estimate_groups(groups, params, period).items())
    alone = [(key, calc.estimate(part, params)) for key, part in groups]
    assert len(together) == len(alone) == frame[by].drop_duplicates().shape[0]
    for (key, est), (alone_key, alone_est) in zip(together, alone, strict=True):
        key = key if isinstance(key, tuple) else (key,)
        assert [None if pd.isna(k) else k for k in key] == [
            None if pd.isna(k) else k for k in alone_key]
        assert type(est) is type(alone_est)
        assert est == alone_est
