"""Difference in differences for an intervention with a control group (``control:``)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.plans import plan_of
from test_insights_support import (
    PERIOD,
    compute,
    definition,
    survey_rows,
    window,
)

from reportgen.errors import DefinitionError
from reportgen.insights import build_insights
from reportgen.metrics.clustered_estimates import ClusteredMean, sampling_variance
from reportgen.metrics.estimates import Mean, Proportion
from reportgen.plan import load_definition
from reportgen.report.model.sections import Finding
from reportgen.stats import did as stats_did


def cells_of(estimates: list) -> list[stats_did.Cell]:  # noqa: ANN001
    out = []
    for est in estimates:
        variance = sampling_variance(est)
        assert variance is not None
        out.append(stats_did.Cell(float(est.value), *variance))
    return out


# --- the estimator by simulation ------------------------------------------------------------
#: CSAT-like rates per (group, period) with a common trend of -3 points; the treated group
#: gets ``effect`` on top after the change.
RATES = {("treated", "before"): 0.82, ("treated", "after"): 0.79,
         ("control", "before"): 0.86, ("control", "after"): 0.83}
SIZES = {("treated", "before"): 900, ("treated", "after"): 300,
         ("control", "before"): 700, ("control", "after"): 250}


def simulate_rates(rng: np.random.Generator, effect: float, runs: int) -> tuple[int, int]:
    """(runs whose 95% interval covers ``effect``, runs whose p < 0.05)."""
    covered = rejected = 0
    for _ in range(runs):
        estimates = []
        for key in (("treated", "before"), ("treated", "after"), ("control", "before"),
                    ("control", "after")):
            rate = RATES[key] + (effect if key == ("treated", "after") else 0.0)
            estimates.append(Proportion(float(rng.binomial(SIZES[key], rate)), SIZES[key]))
        result = stats_did.difference_in_differences(*cells_of(estimates))
        assert result is not None
        low, high = result.interval(0.95)
        covered += low <= effect <= high
        rejected += result.p_value < 0.05
    return covered, rejected


def test_rate_did_interval_covers_a_known_effect() -> None:
    started = time.perf_counter()
    covered, rejected = simulate_rates(np.random.default_rng(8), effect=-0.08, runs=400)
    assert covered / 400 >= 0.93
    assert rejected / 400 > 0.4  # power at z of about 2 is about one half
    assert time.perf_counter() - started < 10


def test_a_common_trend_without_an_effect_is_not_called_an_effect() -> None:
    covered, rejected = simulate_rates(np.random.default_rng(9), effect=0.0, runs=400)
    assert rejected / 400 <= 0.06
    assert covered / 400 >= 0.93


def clustered_cell(rng: np.random.Generator, mean: float, agents: int = 10,
                   audits: int = 15, icc: float = 0.1, sd: float = 12.0) -> ClusteredMean:
    scores = (mean + rng.normal(0, sd * np.sqrt(icc), (agents, 1))
              + rng.normal(0, sd * np.sqrt(1 - icc), (agents, audits)))
    return ClusteredMean.of_clusters(tuple([float(audits)] * agents),
                                     tuple(scores.sum(axis=1)), tuple((scores**2).sum(axis=1)))


def test_clustered_score_did_covers_where_the_unclustered_one_does_not() -> None:
    """QA scores of 10 agents x 15 audits per cell, ICC 0.1; the treated group gains 5."""
    rng = np.random.default_rng(12)
    runs, effect = 1000, 5.0  # the coverage's own standard error is then 0.007
    clustered_hits = plain_hits = 0
    for _ in range(runs):
        cells = [clustered_cell(rng, m) for m in (78.0, 80.0 + effect, 81.0, 83.0)]
        plain = [Mean(c.count, c.mean, c.variance) for c in cells]
        for estimates, is_clustered in ((cells, True), (plain, False)):
            result = stats_did.difference_in_differences(*cells_of(estimates))
            assert result is not None
            low, high = result.interval(0.95)
            hit = low <= effect <= high
            clustered_hits += hit and is_clustered
            plain_hits += hit and not is_clustered
    assert clustered_hits / runs >= 0.93
    assert plain_hits / runs < 0.85


def test_did_equals_the_interaction_of_a_saturated_regression() -> None:
    """The estimate and its variance are statsmodels' for ``y ~ treated * after`` with
    cell-wise robust (HC2) errors, which for a saturated model are the cells' s^2 / n."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(3)
    parts = []
    for treated in (0, 1):
        for after in (0, 1):
            n = 40 + 30 * treated + 20 * after
            y = rng.normal(70 + 3 * treated + 2 * after + 4 * treated * after, 8 + 2 * after, n)
            parts.append(pd.DataFrame({"y": y, "treated": treated, "after": after}))
    rows = pd.concat(parts, ignore_index=True)
    fit = smf.ols("y ~ treated * after", rows).fit(cov_type="HC2")
    cells = [Mean.of(rows.loc[(rows.treated == t) & (rows.after == a), "y"].to_numpy())
             for t, a in ((1, 0), (1, 1), (0, 0), (0, 1))]
    result = stats_did.difference_in_differences(*cells_of(cells))
    assert result is not None
    assert result.estimate == pytest.approx(fit.params["treated:after"], rel=1e-9)
    assert result.se == pytest.approx(fit.bse["treated:after"], rel=1e-9)


# --- the intervention finding ---------------------------------------------------------------
CSAT = {"id": "csat", "calculator": "csat", "source": "survey", "label": "CSAT",
        "params": {"column": "rating"}}


def did_finding(rates: dict[tuple[str, bool], float], seed: int,
                control: dict | None = None) -> Finding:  # noqa: ANN001
    rng = np.random.default_rng(seed)
    history = window(8)
    change = history[4].start
    cells = [(p, queue, 600, rates[(queue, p.start >= change)])
             for p in history for queue in ("Billing", "Shipping")]
    item = {"name": "Refund-policy change", "date": change.isoformat(), "metric": "csat",
            "scope": {"queue": "Billing"}, "expected": "decline",
            "control": control or {"column": "queue", "values": ["Shipping"]}}
    defn = definition([CSAT], interventions=[item])
    frames = {"survey": survey_rows(rng, cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)
    (found,) = [f for f in findings if f.kind == "intervention"]
    return found


def test_a_drop_beyond_the_control_groups_is_read_as_the_effect() -> None:
    found = did_finding({("Billing", False): 0.85, ("Billing", True): 0.72,
                         ("Shipping", False): 0.86, ("Shipping", True): 0.83}, seed=1)
    numbers = found.numbers
    assert numbers["status"] == "effect_vs_control" and numbers["design"] == \
        "difference_in_differences"
    assert found.direction == "declined" and found.tone == "bad"
    assert -0.14 < numbers["did"] < -0.06  # planted: -13 vs -3 points = -10
    assert numbers["low"] < numbers["did"] < numbers["high"] < 0
    assert numbers["did"] == pytest.approx(numbers["treated_change"] - numbers["control_change"])
    assert numbers["p_value"] < 0.001
    assert "CSAT fell" in found.sentence
    assert "more in Billing (−13" in found.sentence and "than in Shipping (" in found.sentence
    assert "after the change (95% CI" in found.sentence
    assert "points)" in found.sentence and "p < 0.001" in numbers["footnote"]


def test_a_common_trend_is_not_credited_to_the_change() -> None:
    """Both queues fall 6 points: before/after alone would call it the change's effect."""
    found = did_finding({("Billing", False): 0.85, ("Billing", True): 0.79,
                         ("Shipping", False): 0.86, ("Shipping", True): 0.80}, seed=2)
    assert found.numbers["status"] == "no_significant_difference"
    assert found.direction == "none"
    assert "about as much in Billing (" in found.sentence and "as in Shipping (" in found.sentence
    # a signed difference sits beside its signed interval, which holds it
    low, high = found.numbers["low"], found.numbers["high"]
    assert low < found.numbers["did"] < high and low < 0 < high
    assert found.numbers["treated_change"] < -0.03  # the naive before/after would claim a drop


def test_a_control_group_without_data_says_so() -> None:
    found = did_finding({("Billing", False): 0.85, ("Billing", True): 0.72,
                         ("Shipping", False): 0.86, ("Shipping", True): 0.83}, seed=3,
                        control={"column": "queue", "values": ["Legal"]})
    assert found.numbers["status"] == "insufficient_control"
    assert found.direction == "none" and "too little data in the control group" in found.sentence


# --- the definition -------------------------------------------------------------------------
BASE = """\
    id: r
    title: R
    period: {grain: month}
    sources:
      survey: {kind: csv, path: s.csv, time_column: created, columns: {created: datetime, queue: str, rating: int}}
    metrics:
      - {id: csat, calculator: csat, source: survey, params: {column: rating}}
    sections: [{id: main, title: Main, kpis: [csat]}]
    interventions:
      - name: Refund-policy change
        date: 2026-06-01
        metric: csat
        scope: {queue: Billing}
        control: %s
"""


@pytest.mark.parametrize("control, expected", [
    ("{column: queue, values: [Billing, Shipping]}", "control values ['Billing'] are also in scope.queue"),
    ("{column: channel, values: [chat]}", "control column 'channel' must also be in 'scope'"),
    ("{column: queue, values: []}", "values"),
    ("{column: queue, value: [Shipping]}", "value"),
])
def test_a_bad_control_is_a_located_error(write_definition, tmp_path: Path, control: str,
                                          expected: str) -> None:
    (tmp_path / "s.csv").write_text("created,queue,rating\n2026-06-02,Billing,5\n")
    path = write_definition(BASE % control)
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    message = str(info.value)
    assert expected in message
    assert "report.yaml:14:" in message and "interventions[0].control" in message


def test_a_good_control_loads(write_definition, tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("created,queue,rating\n2026-06-02,Billing,5\n")
    loaded = load_definition(write_definition(BASE % "{column: queue, values: [Shipping]}"))
    control = loaded.definition.interventions[0].control
    assert control is not None and (control.column, control.values) == ("queue", ["Shipping"])
    assert date(2026, 6, 1) == loaded.definition.interventions[0].date


def test_a_clustered_metric_gives_a_cluster_aware_difference_in_differences() -> None:
    """QA scores with agents that differ: declaring the cluster widens the interval."""
    from test_insights_support import score_rows

    rng = np.random.default_rng(21)
    history = window(6)
    change = history[3].start
    cells = [(p, queue, 150, 84.0 if queue == "Onboarding" and p.start >= change else 78.0)
             for p in history for queue in ("Onboarding", "Billing")]
    frame = score_rows(rng, cells)
    agent = rng.integers(0, 8, len(frame))
    frame["agent_id"] = frame["queue"] + "-" + agent.astype(str)
    frame["rating"] = np.clip(frame["rating"] + np.array([-9, -6, -3, 0, 0, 3, 6, 9])[agent],
                              0, 100)
    spreads = {}
    for clustered in (False, True):
        qa = {"id": "qa", "calculator": "qa_score", "source": "qa", "label": "QA score",
              "params": {"cluster_column": "agent_id"} if clustered else {}}
        item = {"name": "Coaching", "date": change.isoformat(), "metric": "qa",
                "scope": {"queue": "Onboarding"},
                "control": {"column": "queue", "values": ["Billing"]}}
        defn = definition([qa], interventions=[item])
        frames = {"qa": frame}
        findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)
        (found,) = [f for f in findings if f.kind == "intervention"]
        assert found.numbers["design"] == "difference_in_differences"
        assert 3.0 < found.numbers["did"] < 9.0
        spreads[clustered] = (found.numbers["high"] - found.numbers["low"], found.numbers["df"])
    assert spreads[True][0] > 1.3 * spreads[False][0]
    assert spreads[True][1] < 30 < spreads[False][1]  # degrees of freedom from 8 agents a cell
