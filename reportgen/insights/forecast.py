"""Findings about a KPI against its own history: unusual periods and projected targets.

=====================  ==================  ==================================================
kind                   calculator          what it says
=====================  ==================  ==================================================
anomaly                kpi_anomaly         the period's value is outside its expected band
                                           (seasonal baseline; the band's false-alarm rate
                                           and the value's p-value are stated)
within_expected_range  kpi_anomaly         the value is inside the band (no claim)
no_expected_range      kpi_anomaly         no band, and why (too little history...)
target_projection      target_projection   on track / at risk / unlikely to reach the target
                                           in the quarter (or year), with the projection's
                                           prediction interval and the chance of reaching it
no_projection          target_projection   no projection, and why
=====================  ==================  ==================================================

On track: the whole prediction interval is on the target's good side; unlikely: the whole
interval misses it; at risk: the interval holds the target.  The chance of reaching the
target is the projection's predictive t distribution beyond the target.  The figures come
from the calculators' ``details``; nothing is recomputed from rows here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from scipy import stats as sps

from reportgen import text
from reportgen.insights.context import InsightContext
from reportgen.insights.text import (
    Verdict,
    difference_text,
    p_text,
    plural,
    share_text,
    tone_of,
    value_text,
)
from reportgen.period import Period
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding


def forecast_findings(ctx: InsightContext) -> list[Finding]:
    """Every anomaly and projection finding of the period."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        details = metric.details or {}
        if metric.value is None or metric.suppressed is not None:
            continue
        if isinstance(details.get("anomaly"), Mapping):
            out.append(anomaly_finding(ctx, metric, details["anomaly"]))
        if isinstance(details.get("projection"), Mapping):
            out.append(projection_finding(ctx, metric, details["projection"]))
    return out


def _rate_text(rate: float) -> str:
    return share_text(rate) if rate >= 0.01 else text.percent(rate, 1)


def _chance_text(chance: float) -> str:
    if chance < 0.01:
        return "under 1%"
    if chance > 0.99:
        return "over 99%"
    return share_text(chance)


def anomaly_finding(ctx: InsightContext, metric: MetricResult,
                    band: Mapping[str, Any]) -> Finding:
    """Outside the band, inside it, or no band (said plainly)."""
    grain = ctx.period.grain
    unit = metric.unit
    assert metric.value is not None
    if not band.get("band"):
        return ctx.finding("no_expected_range", metric, "overall", _no_band(ctx, metric, band),
                           numbers=dict(band), severity_kind="small_sample")
    low, high, rate = band["low"], band["high"], band["false_alarm_rate"]
    basis = (f"a seasonal baseline of {plural(band['periods'], grain)}"
             f"{' with a trend' if band.get('trend') else ''}")
    numbers = {**band, "value": metric.value,
               "test": "prediction interval of a seasonal baseline (OLS, Student t)"}
    if not band.get("outside"):
        sentence = (f"{metric.label} in {ctx.period.label} ({value_text(metric.value, unit)}) "
                    f"is within its expected range of {text.interval(low, high, unit)} "
                    f"({basis}; an ordinary {grain} falls outside it {_rate_text(rate)} of "
                    f"the time).")
        return ctx.finding("within_expected_range", metric, "overall", sentence,
                           numbers=numbers, severity_kind="no_significant_change")
    above = metric.value > high
    good = above == (metric.direction == "higher")
    verdict: Verdict = "improved" if good else "declined"
    sentence = (f"{metric.label} was unusually {'high' if above else 'low'} in "
                f"{ctx.period.label}: {value_text(metric.value, unit)}, "
                f"{difference_text(metric.value, high if above else low, unit)} "
                f"{'above' if above else 'below'} its expected range of "
                f"{text.interval(low, high, unit)} (expected "
                f"{value_text(band['expected'], unit)}, from {basis}). An ordinary {grain} "
                f"falls outside this range {_rate_text(rate)} of the time "
                f"({p_text(band['p_value'])}).")
    return ctx.finding("anomaly", metric, "overall", sentence,
                       numbers={**numbers, "significant": True}, direction=verdict,
                       tone=tone_of(verdict), magnitude=1.0, severity_kind="out_of_control")


def _no_band(ctx: InsightContext, metric: MetricResult, band: Mapping[str, Any]) -> str:
    grain = ctx.period.grain
    head = f"No expected range for {metric.label} in {ctx.period.label}"
    reason = band.get("reason")
    if reason == "history":
        return (f"{head}: {plural(band['periods'], 'earlier ' + grain)} with a value, and a "
                f"seasonal baseline needs at least {band['min_periods']} (the report must "
                f"load {band['min_periods'] + 1} {grain}s of history or more).")
    if reason == "season":
        return f"{head}: no earlier {grain} of the same season has a value to compare with."
    return f"{head}: the earlier values do not vary, so there is no spread to set a range from."


def _horizon_label(projection: Mapping[str, Any], ctx: InsightContext) -> str:
    start = date.fromisoformat(projection["horizon_start"])
    if projection["horizon"] == "year":
        return str(start.year)
    return Period(start, projection["horizon"], ctx.period.timezone).label


def projection_status(projected: float, low: float, high: float, target: float,
                      direction: str) -> str:
    """on_track (the interval wholly meets the target), unlikely (wholly misses it) or
    at_risk (the interval holds the target)."""
    if direction == "higher":
        return "on_track" if low >= target else "unlikely" if high < target else "at_risk"
    return "on_track" if high <= target else "unlikely" if low > target else "at_risk"


def reach_chance(projected: float, se: float, df: float, target: float, direction: str) -> float:
    """The chance the horizon's value meets the target, from the projection's t distribution."""
    score = (target - projected) / se
    return float(sps.t.sf(score, df) if direction == "higher" else sps.t.cdf(score, df))


def projection_finding(ctx: InsightContext, metric: MetricResult,
                       projection: Mapping[str, Any]) -> Finding:
    unit, grain = metric.unit, ctx.period.grain
    projected = projection.get("projected")
    if projected is None or "horizon_start" not in projection:
        return ctx.finding("no_projection", metric, "overall",
                           _no_projection(ctx, metric, projection),
                           numbers=dict(projection), severity_kind="small_sample")
    horizon = _horizon_label(projection, ctx)
    target = metric.target
    numbers: dict[str, Any] = {**projection, "target": target,
                               "elapsed_mean": elapsed_mean(projection)}
    if projection.get("closed"):
        sentence = (f"{metric.label} ended {horizon} at {value_text(projected, unit)} (the mean "
                    f"of its {plural(projection['periods'], grain)})")
        if target is None:
            return ctx.finding("target_projection", metric, "overall", sentence + ".",
                               numbers={**numbers, "status": None},
                               severity_kind="target_at_risk")
        met = projected >= target if metric.direction == "higher" else projected <= target
        if met:
            sentence += f", meeting its {value_text(target, unit)} target."
        else:
            side = "below" if projected < target else "above"
            sentence += (f", {difference_text(projected, target, unit)} {side} its "
                         f"{value_text(target, unit)} target.")
        return ctx.finding("target_projection", metric, "overall", sentence,
                           numbers={**numbers, "status": "met" if met else "missed"},
                           tone="good" if met else "bad",
                           severity_kind="target_at_risk" if met else "target_breach")
    low, high, level = projection["low"], projection["high"], projection["confidence"]
    interval = f"{share_text(level)} prediction interval {text.interval(low, high, unit)}"
    basis = _basis(ctx, metric, projection)
    if target is None:
        sentence = (f"{metric.label} is projected at {value_text(projected, unit)} for "
                    f"{horizon} ({interval}), {basis}; no target is set.")
        return ctx.finding("target_projection", metric, "overall", sentence,
                           numbers={**numbers, "status": None}, severity_kind="target_at_risk")
    status = projection_status(projected, low, high, target, metric.direction)
    chance = reach_chance(projected, projection["se"], projection["df"], target,
                          metric.direction)
    goal = f"its {value_text(target, unit)} target for {horizon}"
    reach = f"chance of reaching it {_chance_text(chance)}"
    if status == "on_track":
        head = f"{metric.label} is on track for {goal}"
    elif status == "unlikely":
        head = f"{metric.label} is unlikely to reach {goal}"
    else:
        head = f"{metric.label} is at risk of missing {goal}"
        interval += ", which includes the target"
    sentence = (f"{head}: projected at {value_text(projected, unit)} ({interval}; {reach}), "
                f"{basis}.")
    return ctx.finding(
        "target_projection", metric, "overall", sentence,
        numbers={**numbers, "status": status, "chance": chance},
        tone="good" if status == "on_track" else "bad" if status == "unlikely" else "warning",
        magnitude=1 - chance if status != "on_track" else 0.0,
        severity_kind={"on_track": "target_at_risk", "at_risk": "target_at_risk",
                       "unlikely": "target_breach"}[status])


def elapsed_mean(projection: Mapping[str, Any]) -> float | None:
    """The mean of the periods of the horizon so far (the projection's basis)."""
    elapsed = [e["value"] for e in projection.get("elapsed", ()) if e.get("value") is not None]
    return sum(elapsed) / len(elapsed) if elapsed else None


def _basis(ctx: InsightContext, metric: MetricResult, projection: Mapping[str, Any]) -> str:
    grain = ctx.period.grain
    elapsed = [e for e in projection.get("elapsed", ()) if e.get("value") is not None]
    model = "trend" if projection.get("model") == "trend" else "average"
    recent = f"the {model} of the last {plural(projection['fitted'], grain)}"
    if len(elapsed) == 1:
        return (f"from {ctx.period.label}'s {value_text(elapsed[0]['value'], metric.unit)} "
                f"and {recent}")
    mean = elapsed_mean(projection)
    return (f"from the {plural(len(elapsed), grain)} so far (mean "
            f"{value_text(mean, metric.unit)}) and {recent}")


def _no_projection(ctx: InsightContext, metric: MetricResult,
                   projection: Mapping[str, Any]) -> str:
    head = f"No projection of {metric.label}"
    reason = projection.get("reason")
    grain = ctx.period.grain
    if reason == "horizon":
        return (f"{head}: a {projection['horizon']} is not longer than the report's "
                f"{grain}, so there is nothing left to project.")
    if reason == "elapsed":
        return (f"{head} for the {projection['horizon']}: "
                f"{plural(len(projection.get('missing', ())), 'earlier ' + grain)} of it "
                f"{'has' if len(projection.get('missing', ())) == 1 else 'have'} no value.")
    return (f"{head} for the {projection['horizon']}: "
            f"{plural(projection.get('fitted', 0), 'recent ' + grain)} with a value, and the "
            f"projection needs at least {projection.get('min_periods')}.")
