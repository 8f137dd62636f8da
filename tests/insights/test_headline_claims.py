"""The executive summary's claims hold a report-level false-claim budget.

Each family of tests (a metric's changes, its segments, its causes) is held at alpha on its
own, but a 13-month report on five headline metrics, with nothing changed anywhere, claims
a change somewhere in far more runs than that.  The summary's claims are Holm-adjusted
together across the headline metrics' families (``reportgen.insights.headline``).

Each run draws counts for the months a 13-month report compares (the report month, the
previous one and the same month last year; the months between are drawn by nothing a
claim reads), evaluates every metric with the engine's own ``evaluate`` (its estimates,
tests, Holm family and breakdown rows), builds the findings over the 13-month window with
``build_insights`` and picks the summary with the report's ``summary_findings``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from support.plans import plan_of
from test_insights_support import PERIOD, definition, window

from reportgen.insights import build_insights
from reportgen.insights.headline import is_claim
from reportgen.metrics.engine import evaluate
from reportgen.metrics.estimates import Proportion
from reportgen.period import Period
from reportgen.report.editorial import summary_findings
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding

HISTORY = window(13)
#: the months whose values a claim reads
COMPARED = [PERIOD.same_period_last_year(), PERIOD.previous(), PERIOD]
ALPHA = 0.05
#: (id, calculator, breakdown column, its segments, answers per segment and month, true rate)
METRICS: tuple[tuple[str, str, str, int, int, float], ...] = (
    ("csat", "csat", "queue", 8, 60, 0.85),
    ("fcr", "fcr", "channel", 3, 150, 0.60),
    ("pass_rate", "pass_rate", "queue", 6, 40, 0.80),
    ("decision_accuracy", "decision_accuracy", "policy_area", 5, 80, 0.93),
    ("defect_rate", "defect_rate", "category", 6, 100, 0.12),  # causes: their own family
)
DEFN = definition([{"id": m, "calculator": c, "source": "survey", "by": [by]}
                   for m, c, by, *_ in METRICS],
                  alpha=ALPHA, summary=[m[0] for m in METRICS])
PLAN = plan_of(DEFN)


class Drawn:
    """One metric's counts: per month, one Proportion per segment (the total is their sum)."""

    def __init__(self, column: str, cells: Mapping[str, np.ndarray], n: int):
        self.column, self.cells, self.n = column, cells, n

    def estimate(self, period: Period) -> Proportion:
        hits = self.cells[period.key]
        return Proportion(float(hits.sum()), float(self.n * len(hits)))

    def segments(self, columns: tuple[str, ...], period: Period) -> dict[tuple[str, ...], Proportion]:
        assert columns == (self.column,)
        return {(f"{self.column} {i}",): Proportion(float(h), float(self.n))
                for i, h in enumerate(self.cells[period.key])}

    def details(self, period: Period, history: Sequence[Period]) -> dict:
        return {}


def report(rng: np.random.Generator, effect: Mapping[str, float] | None = None
           ) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """One report's findings and its executive summary; ``effect`` moves a metric's true
    rate in the report month only (every segment alike)."""
    metrics: dict[str, MetricResult] = {}
    for metric_id, _, column, segments, n, rate in METRICS:
        cells = {p.key: rng.binomial(n, rate, size=segments) for p in COMPARED}
        if effect and metric_id in effect:
            cells[PERIOD.key] = rng.binomial(n, rate + effect[metric_id], size=segments)
        metrics[metric_id] = evaluate(PLAN.metric(metric_id), Drawn(column, cells, n), PERIOD,
                                       COMPARED)
    findings = build_insights(PLAN, metrics, {}, PERIOD, HISTORY)
    return findings, summary_findings(findings, DEFN.insights.summary_findings)


def test_with_no_effect_the_summary_claims_a_change_in_at_most_ten_percent_of_reports() -> None:
    """400 seeded null reports at alpha 0.05: 23.8% (95) claim a change somewhere, each
    family held at alpha on its own, and the summary showed every one of those claims;
    with the headline metrics' families Holm-adjusted together, the summary claims a
    change in 5.8% (23 of 400; 95% interval 3.7-8.5%, so consistent with alpha)."""
    rng = np.random.default_rng(20261013)
    runs = 400
    somewhere = in_summary = 0
    for _ in range(runs):
        findings, summary = report(rng)
        somewhere += any(is_claim(f) for f in findings)
        in_summary += any(is_claim(f) for f in summary)
    assert somewhere / runs > 0.15, somewhere  # the families together do run over alpha
    assert in_summary / runs <= 0.10, f"{in_summary} of {runs} summaries claimed a change"


def test_a_large_real_change_still_reaches_the_summary() -> None:
    """CSAT falls 15 points in the report month (8 queues of 60): the summary says so
    (in 60 of 60 seeded reports)."""
    rng = np.random.default_rng(7)
    runs = 60
    told = 0
    for _ in range(runs):
        _, summary = report(rng, {"csat": -0.15})
        told += any(is_claim(f) and f.metric_id == "csat" and f.direction == "declined"
                    for f in summary)
    assert told / runs >= 0.95, f"{told} of {runs}"


def test_a_claim_outside_the_budget_stays_in_the_findings_but_not_the_summary() -> None:
    """A family-level claim that the report-level Holm does not keep is still a finding
    (its section tells it), marked ``headline: False`` with its report-level p-value, and
    the summary does not state it."""
    rng = np.random.default_rng(11)
    for _ in range(400):
        findings, summary = report(rng)
        dropped = [f for f in findings if is_claim(f) and not f.numbers["headline"]]
        if dropped:
            break
    else:
        pytest.fail("no null report made a family-level claim")
    claim = dropped[0]
    assert claim.numbers["report_p"] >= ALPHA > claim.numbers.get(
        "p_adjusted", claim.numbers.get("p_value"))
    assert claim not in summary and not any(is_claim(f) for f in summary)
