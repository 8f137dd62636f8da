"""Target breaches and streaks: where a metric stands against its target, and for how long.

The status is the engine's (``MetricResult.status``): a miss whose confidence interval still
reaches the target is "at risk", not "off target", so a breach is stated only when the
data cannot be on target.  A streak counts the consecutive periods, ending with the report
period, whose history value is off target by the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    breakdown_noun,
    difference_text,
    join_names,
    plural,
    plural_noun,
    value_text,
)
from reportgen.metrics.verdicts import target_status
from reportgen.report.model.metric_results import BreakdownRow, MetricResult, PeriodValue
from reportgen.report.model.sections import Finding

#: Segments named in a segments-off-target sentence (the rest are counted).
NAMED_SEGMENTS = 3


def target_findings(ctx: InsightContext) -> list[Finding]:
    """Breach, streak and at-risk findings for every metric with a target."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.target is None or metric.value is None or metric.suppressed is not None:
            continue
        if "p_chart" in metric.details:
            continue  # judged against target through the rate it charts
        if metric.status == "off_target":
            out.append(_breach(ctx, metric))
        elif metric.status == "at_risk":
            out.append(_at_risk(ctx, metric))
        for breakdown, rows in metric.breakdowns.items():
            found = _segments_off_target(ctx, metric, breakdown, rows)
            if found is not None:
                out.append(found)
    return out


def _side(metric: MetricResult) -> str:
    assert metric.value is not None and metric.target is not None
    return "below" if metric.value < metric.target else "above"


def streak(ctx: InsightContext, metric: MetricResult) -> int:
    """Consecutive periods, ending with the report period, that were off target."""
    spec = ctx.spec(metric.metric_id)
    margin = spec.at_risk_margin if spec is not None else None
    points: Sequence[PeriodValue] = metric.history
    keys = [p.period for p in points]
    if ctx.period.key not in keys:
        return 1 if metric.status == "off_target" else 0
    count = 0
    for point in reversed(points[: keys.index(ctx.period.key) + 1]):
        status = target_status(point.value, metric.target, metric.direction, point.interval,
                               margin)
        if point.suppressed is not None or status != "off_target":
            break
        count += 1
    return count


def _breach(ctx: InsightContext, metric: MetricResult) -> Finding:
    assert metric.value is not None and metric.target is not None
    gap = metric.value - metric.target
    run = max(streak(ctx, metric), 1)
    needed = ctx.definition.insights.streak_periods
    target = value_text(metric.target, metric.unit)
    numbers = {"value": metric.value, "target": metric.target, "gap": gap, "n": metric.n,
               "streak": run, "streak_periods": needed, "status": metric.status}
    size = magnitude(gap, metric.unit, metric.target)
    if run >= needed:
        sentence = (f"{metric.label} has been off target for "
                    f"{plural(run, ctx.period.grain)} running: "
                    f"{value_text(metric.value, metric.unit)} in {ctx.period.label}, "
                    f"{difference_text(metric.value, metric.target, metric.unit)} "
                    f"{_side(metric)} the {target} target.")
        return ctx.finding("target_streak", metric, "overall", sentence, numbers=numbers,
                           tone="bad", magnitude=max(size, min(1.0, run / 12)))
    sentence = (f"{metric.label} is off target: {value_text(metric.value, metric.unit)} in "
                f"{ctx.period.label}, "
                f"{difference_text(metric.value, metric.target, metric.unit)} {_side(metric)} "
                f"the {target} target.")
    return ctx.finding("target_breach", metric, "overall", sentence, numbers=numbers,
                       tone="bad", magnitude=size)


def _at_risk(ctx: InsightContext, metric: MetricResult) -> Finding:
    assert metric.value is not None and metric.target is not None
    sentence = (f"{metric.label} is at risk: {value_text(metric.value, metric.unit)} in "
                f"{ctx.period.label} is {_side(metric)} the "
                f"{value_text(metric.target, metric.unit)} target, but close enough that it "
                f"may still be on target.")
    numbers = {"value": metric.value, "target": metric.target,
               "gap": metric.value - metric.target, "n": metric.n, "status": metric.status}
    return ctx.finding("target_at_risk", metric, "overall", sentence, numbers=numbers,
                       tone="warning")


def _segments_off_target(ctx: InsightContext, metric: MetricResult, breakdown: str,
                         rows: Sequence[BreakdownRow]) -> Finding | None:
    shown = [r for r in rows if r.suppressed is None and r.value is not None]
    off = [r for r in shown if r.status == "off_target"]
    if not off or len(shown) < 2:
        return None
    assert metric.target is not None
    target = metric.target
    worst = sorted(off, key=lambda r: abs((r.value or 0.0) - target))[::-1]
    named = [f"{r.label} ({value_text(r.value, metric.unit)})" for r in worst[:NAMED_SEGMENTS]]
    rest = len(off) - len(named)
    noun = breakdown_noun(breakdown)
    verb = "is" if len(off) == 1 else "are"
    # Segments too small to show are neither on nor off target: the count says of how many
    # it speaks, and how many it cannot tell.
    hidden = len(rows) - len(shown)
    among = (f"the {plural(len(shown), noun)} with enough {plural_noun(metric.n_noun)}"
             if hidden else plural(len(shown), noun))
    sentence = (f"{len(off)} of {among} {verb} off the "
                f"{value_text(metric.target, metric.unit)} {metric.label} target in "
                f"{ctx.period.label}: {join_names(named + ([f'{rest} more'] if rest else []))}.")
    if hidden:
        sentence += (f" {plural(hidden, 'other ' + noun, 'other ' + plural_noun(noun))} "
                     f"had too few to tell.")
    volume = sum(r.n for r in off)
    numbers = {"breakdown": breakdown, "target": metric.target,
               "segments": [{"segment": r.label, "value": r.value, "n": r.n} for r in worst],
               "off_target": len(off), "shown": len(shown), "too_few": hidden}
    gap = max(abs((r.value or 0.0) - metric.target) for r in off)
    return ctx.finding("segments_off_target", metric, f"by {breakdown}", sentence,
                       numbers=numbers, tone="bad",
                       magnitude=magnitude(gap, metric.unit, metric.target),
                       reach=min(1.0, volume / metric.n) if metric.n else 0.0)
