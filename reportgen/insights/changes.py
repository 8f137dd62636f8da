"""Did the metric change?  Against the previous period and the same period last year.

The verdict is the metric's own test (``MetricResult.change`` / ``year_over_year``, computed
by the engine at the metric's alpha), so a finding can never disagree with the KPI tile.
A change is called improved or declined only when that test is significant; otherwise
the headline metrics get a low-severity note saying there was no significant change.
"""

from __future__ import annotations

from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    difference_text,
    goodness,
    movement,
    p_text,
    tone_of,
    value_text,
)
from reportgen.report.model.metric_results import Change, MetricResult
from reportgen.report.model.sections import Finding


def change_findings(ctx: InsightContext) -> list[Finding]:
    """Overall change findings for every metric, against both comparison periods."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.suppressed is not None or metric.value is None:
            continue  # the small-sample finding speaks for it
        if "p_chart" in metric.details:
            continue  # a control view repeats its rate's change; its signals come from control
        if metric.change is not None:
            found = _one(ctx, metric, metric.change, "significant_change")
            if found is not None:
                out.append(found)
        if metric.year_over_year is not None:
            found = _one(ctx, metric, metric.year_over_year, "year_over_year")
            if found is not None:
                out.append(found)
    return out


def _one(ctx: InsightContext, metric: MetricResult, change: Change, kind: str) -> Finding | None:
    assert metric.value is not None
    against = change.against
    now = value_text(metric.value, metric.unit)
    numbers = {
        "value": metric.value, "previous": change.previous, "delta": change.delta,
        "n": metric.n, "previous_n": change.previous_n, "p_value": change.p_value,
        "alpha": change.alpha, "test": change.test, "against": against,
        "comparison": "previous period" if kind == "significant_change" else "year ago",
        "significant": change.significant,
    }
    if change.previous is None or change.delta is None:
        return None  # nothing to compare with (the small-sample finding says why)
    before = value_text(change.previous, metric.unit)
    headline = ctx.is_headline(metric.metric_id)
    if change.p_value is None:
        # Counts and agreement statistics carry no change test: state both values, claim nothing.
        if not headline:
            return None
        sentence = (f"{metric.label} was {now} in {ctx.period.label}, against {before} in "
                    f"{against}; this measure has no significance test, so no change is claimed.")
        return ctx.finding("no_test", metric, "overall", sentence, numbers=numbers)
    if not change.significant:
        if not headline:
            return None
        sentence = (f"{metric.label} was {now} in {ctx.period.label}, against {before} in "
                    f"{against}: no significant change ({p_text(change.p_value, change.alpha)}).")
        return ctx.finding("no_significant_change", metric, "overall", sentence,
                           numbers=numbers)
    verdict = goodness(change.delta, metric.direction)
    tone = tone_of(verdict)
    sentence = (f"{metric.label} {movement(change.delta)} "
                f"{difference_text(metric.value, change.previous, metric.unit)} "
                f"to {now} in {ctx.period.label}, from {before} in {against} "
                f"({p_text(change.p_value, change.alpha)}).")
    return ctx.finding(kind, metric, "overall", sentence, numbers=numbers,
                       direction=verdict, tone=tone,
                       magnitude=magnitude(change.delta, metric.unit, change.previous))
