"""Intervention tracking: did a change the team made move the metric it was meant to move?

For each ``interventions`` entry: the metric's own calculator is run on the entry's scoped
rows before and after its date, within the loaded window, and the two estimates are
compared with the metric's own test (``Estimate.compare``), at the metric's alpha.  The
effect size is the difference plus Cohen's h (rates) or Cohen's d (means).  Whether it held:
every whole period after the date whose sample is large enough stays on the same side of
the 'before' level, and the latest period on its own still differs significantly from it.

``expected`` is read in the metric's terms: "improve" means a move the good way for the
metric (up for CSAT, down for handle time), "decline" the other way.

Every entry yields exactly one finding of kind ``intervention``; ``numbers["status"]`` says
which case it is (held, faded, too_early, against_expectation, no_significant_difference,
insufficient_before, insufficient_after, not_testable).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Protocol

import pandas as pd
from statsmodels.stats.proportion import proportion_effectsize

from reportgen import text
from reportgen.definition.insight_specs import InterventionSpec
from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    Verdict,
    delta_text,
    difference_text,
    goodness,
    join_names,
    movement,
    n_text,
    p_text,
    scope_phrase,
    signed_delta_text,
    tone_of,
    value_text,
)
from reportgen.metrics.base import Calculator, CalculatorParams
from reportgen.metrics.clustered_estimates import sampling_variance
from reportgen.metrics.columns import timestamps
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.metrics.estimates import Estimate
from reportgen.report.model.sections import Finding
from reportgen.stats import did as stats_did
from reportgen.text.number import POINT_UNITS

_SIZE_WORDS = ((0.8, "a large"), (0.5, "a medium"), (0.2, "a small"), (0.0, "a very small"))


def intervention_findings(ctx: InsightContext) -> list[Finding]:
    """One finding per declared intervention whose metric is in the report."""
    return [found for item in ctx.definition.interventions
            if (found := _track(ctx, item)) is not None]


def effect_size(after: Estimate, before: Estimate) -> tuple[str, float] | None:
    """Cohen's h for rates, Cohen's d (pooled standard deviation) for means, else None."""
    if after.value is None or before.value is None:
        return None
    if after.kind == "proportion":
        return "Cohen's h", float(proportion_effectsize(after.value, before.value))
    var_after = getattr(after, "variance", None)
    var_before = getattr(before, "variance", None)
    if after.kind == "mean" and var_after is not None and var_before is not None:
        n1, n0 = after.n, before.n
        if n1 < 2 or n0 < 2:
            return None
        pooled = math.sqrt(((n1 - 1) * var_after + (n0 - 1) * var_before) / (n1 + n0 - 2))
        return ("Cohen's d", float((after.value - before.value) / pooled)) if pooled else None
    return None


def _size_word(size: float) -> str:
    return next(word for bound, word in _SIZE_WORDS if abs(size) >= bound)


def _scope_text(scope: dict[str, Any]) -> str:
    if not scope:
        return "overall"
    return ", ".join(f"{c} = {' or '.join(map(str, v)) if isinstance(v, list) else v}"
                     for c, v in scope.items())


def _track(ctx: InsightContext, item: InterventionSpec) -> Finding | None:
    metric, spec = ctx.metrics.get(item.metric), ctx.spec(item.metric)
    if metric is None or spec is None or spec.source not in ctx.frames:
        return None
    plan = ctx.plans[spec.id]
    calc, params = plan.calc, plan.params
    scope = _scope_text(item.scope)
    start = datetime.combine(item.date, datetime.min.time(), ctx.period.tz)
    title = f"{item.name} (from {text.day(item.date)}{_where(item)})"
    base = {"intervention": item.name, "date": item.date.isoformat(), "expected": item.expected,
            "scope": dict(item.scope)}

    def report(status: str, sentence: str, numbers: dict[str, Any] | None = None, *,
               verdict: Verdict = "none", size: float = 0.0) -> Finding:
        conclusive = status in ("held", "faded", "too_early", "against_expectation",
                                "effect_vs_control")
        return ctx.finding("intervention", metric, scope, sentence,
                           numbers={**base, **(numbers or {}), "status": status,
                                    "significant": conclusive},
                           direction=verdict, tone=tone_of(verdict) if conclusive else "warning",
                           magnitude=size,
                           severity_kind="intervention" if conclusive
                           else "intervention_inconclusive")

    if getattr(calc, "scope", "period") != "period":
        return report("not_testable", f"{title}: {metric.label} is a running total, so a "
                      "before/after comparison of it is not meaningful.")
    time_column = ctx.definition.sources[spec.source].time_column
    aggregation = calc.aggregation(params)
    columns = [*params.columns(), *(aggregation.columns() if aggregation else ()), time_column]
    try:
        frame = ctx.frames.rows(spec.source, columns, {**spec.filter, **item.scope})
    except KeyError as exc:
        return report("not_testable", f"{title}: the data has no {join_names([str(exc.args[0])])} "
                      "column, so the intervention cannot be tracked.")
    missing = [c for c in [*item.scope, time_column] if c not in frame.columns]
    if missing:
        return report("not_testable", f"{title}: the data has no {join_names(missing)} "
                      "column, so the intervention cannot be tracked.")
    keys = {p.key for p in ctx.history}
    rows = frame.loc[frame[PERIOD_COLUMN].isin(keys)]
    times = timestamps(rows, time_column, ctx.period)
    is_after = (times >= pd.Timestamp(start)).to_numpy()
    before = calc.estimate(rows.loc[~is_after], params)
    after = calc.estimate(rows.loc[is_after], params)
    minimum, alpha, unit = ctx.min_n(metric.metric_id), ctx.alpha(metric.metric_id), metric.unit
    first = (ctx.history[0] if ctx.history else ctx.period).start
    sizes = {"n_before": before.n, "n_after": after.n, "min_n": minimum,
             "window_start": first.isoformat()}
    if before.value is None or before.n < minimum:
        return report("insufficient_before", (
            f"{title}: too little data before the change to judge it ({n_text(before.n)} in "
            f"the loaded window, which starts {text.day(first)}; at least "
            f"{minimum} are needed). Loading more history would allow the comparison."), sizes)
    if after.value is None or after.n < minimum:
        return report("insufficient_after", (
            f"{title}: too early to judge ({n_text(after.n)} since the change; at least "
            f"{minimum} are needed)."), sizes)
    if item.control is not None:
        return _difference_in_differences(ctx, item, report, rows, (before, after), columns,
                                          start, title)
    change = after.compare(before, alpha)
    effect = effect_size(after, before)
    numbers: dict[str, Any] = {
        **sizes, "value_before": before.value, "value_after": after.value,
        "delta": change.delta, "p_value": change.p_value, "test": change.test, "alpha": alpha,
        "effect_measure": effect[0] if effect else None,
        "effect_size": effect[1] if effect else None}
    if change.p_value is None or change.delta is None:
        return report("not_testable", f"{title}: {metric.label} has no significance test, so "
                      "no before/after claim is made.", numbers)
    levels = (f"{value_text(before.value, unit)} before ({n_text(before.n)}), "
              f"{value_text(after.value, unit)} after ({n_text(after.n)})")
    if not change.significant:
        return report("no_significant_difference", (
            f"{title}: no significant difference in {metric.label} between before and after: "
            f"{levels} ({p_text(change.p_value, alpha)})."), numbers)
    verdict = goodness(change.delta, metric.direction)
    expected = "improved" if item.expected == "improve" else "declined"
    effect_text = f", {_size_word(effect[1])} effect" if effect else ""
    sentence = (f"{title}: {metric.label} {movement(change.delta)} "
                f"{difference_text(after.value, before.value, unit)}, from "
                f"{value_text(before.value, unit)} before "
                f"({n_text(before.n)}) to {value_text(after.value, unit)} after "
                f"({n_text(after.n)}; {p_text(change.p_value, alpha)}{effect_text})")
    size = magnitude(change.delta, unit, before.value)
    if verdict != expected:
        return report("against_expectation", sentence + ", the opposite of what was expected.",
                      numbers, verdict=verdict, size=size)
    held = _held(ctx, calc, params, rows, start, before, change.delta, minimum, alpha)
    numbers.update(held)
    if held["latest_p"] is None:
        status, tail = "too_early", "; too early to tell whether it holds."
    elif held["held"] and held["latest_significant"]:
        status, tail = "held", (f", and it has held: {held['text']}, and {ctx.period.label} "
                                f"on its own still differs from before "
                                f"({p_text(held['latest_p'], alpha)}).")
    else:
        status, tail = "faded", (f", but it has not held: {held['text']}"
                                 + ("" if held["latest_significant"] else
                                    f", and {ctx.period.label} on its own no longer differs "
                                    f"significantly from before "
                                    f"({p_text(held['latest_p'], alpha)})") + ".")
    return report(status, sentence + tail, numbers, verdict=verdict, size=size)


class _Report(Protocol):
    def __call__(self, status: str, sentence: str, numbers: dict[str, Any] | None = None, *,
                 verdict: Verdict = "none", size: float = 0.0) -> Finding: ...


def _control_scope(item: InterventionSpec) -> dict[str, Any]:
    """The control group's rows: the intervention's scope with the control column's values
    swapped for the control's, so both groups match on everything else."""
    assert item.control is not None
    return {**item.scope, item.control.column: list(item.control.values)}


def _group_name(values: Any) -> str:
    return join_names([str(v) for v in (values if isinstance(values, list) else [values])])


def _difference_in_differences(ctx: InsightContext, item: InterventionSpec, report: _Report,
                               rows: pd.DataFrame, treated: tuple[Estimate, Estimate],
                               columns: list[str], start: datetime, title: str) -> Finding:
    """The change in the scope minus the change in the control group over the same dates."""
    assert item.control is not None
    metric, spec = ctx.metrics[item.metric], ctx.spec(item.metric)
    assert spec is not None
    plan = ctx.plans[spec.id]
    calc, params = plan.calc, plan.params
    time_column = ctx.definition.sources[spec.source].time_column
    frame = ctx.frames.rows(spec.source, columns, {**spec.filter, **_control_scope(item)})
    keys = {p.key for p in ctx.history}
    others = frame.loc[frame[PERIOD_COLUMN].isin(keys)]
    is_after = (timestamps(others, time_column, ctx.period) >= pd.Timestamp(start)).to_numpy()
    control = (calc.estimate(others.loc[~is_after], params),
               calc.estimate(others.loc[is_after], params))
    minimum, alpha, unit = ctx.min_n(metric.metric_id), ctx.alpha(metric.metric_id), metric.unit
    level = plan.settings.confidence
    treated_name = _group_name(item.scope[item.control.column])
    control_name = _group_name(list(item.control.values))
    numbers: dict[str, Any] = {
        "design": "difference_in_differences", "control": {
            "column": item.control.column, "values": list(item.control.values)},
        "n_before": treated[0].n, "n_after": treated[1].n,
        "value_before": treated[0].value, "value_after": treated[1].value,
        "control_n_before": control[0].n, "control_n_after": control[1].n,
        "control_value_before": control[0].value, "control_value_after": control[1].value,
        "min_n": minimum, "alpha": alpha}
    if any(e.value is None or e.n < minimum for e in control):
        return report("insufficient_control", (
            f"{title}: too little data in the control group ({control_name}) to compare "
            f"against ({n_text(control[0].n)} before, {n_text(control[1].n)} after the change; "
            f"at least {minimum} each are needed)."), numbers)
    cells = [sampling_variance(e) for e in (*treated, *control)]
    if any(c is None for c in cells):
        return report("not_testable", (
            f"{title}: {metric.label} is neither a rate nor a mean, so no difference in "
            f"differences against {control_name} is computed."), numbers)
    result = stats_did.difference_in_differences(*(
        stats_did.Cell(float(e.value or 0.0), c[0], c[1])
        for e, c in zip((*treated, *control), cells, strict=True) if c is not None))
    if result is None:
        return report("not_testable", (
            f"{title}: every group is at the edge of the scale before and after, so the "
            f"difference in differences against {control_name} has no interval."), numbers)
    low, high = result.interval(level)
    p_value = result.p_value
    numbers.update({"delta": result.estimate, "did": result.estimate,
                    "treated_change": result.treated_change,
                    "control_change": result.control_change, "se": result.se,
                    "df": None if math.isinf(result.df) else result.df,
                    "low": low, "high": high, "level": level, "p_value": p_value,
                    "test": "difference in differences (sum of the four cells' variances)"})
    sign = 1.0 if result.estimate >= 0 else -1.0
    points = " points" if unit in POINT_UNITS else ""
    bounds = sorted((sign * low, sign * high))  # of the size "rose/fell N points more" names
    ci = f"{text.confidence_label(level)} {_bound(bounds[0], unit)} to {_bound(bounds[1], unit)}"
    ci += points
    signed_ci = (f"{text.confidence_label(level)} {_bound(low, unit)} to {_bound(high, unit)}"
                 f"{points}")  # beside a signed difference
    footnote = (f"Difference in differences: the change in {treated_name} minus the change in "
                f"{control_name} ({signed_delta_text(result.treated_change, unit)} and "
                f"{signed_delta_text(result.control_change, unit)}); {p_text(p_value, alpha)}.")
    numbers["footnote"] = footnote
    significant = p_value < alpha
    numbers["significant"] = significant
    # The test result sits in the closing parenthesis, where the report's editor moves it
    # to a numbered note; each group's own change stays beside its name.
    # each group's change as the difference of its levels as shown (the action register
    # shows them), and the difference in differences as the difference of those
    treated_shown = text.shown_difference(float(treated[1].value or 0.0),
                                          float(treated[0].value or 0.0), unit)
    control_shown = text.shown_difference(float(control[1].value or 0.0),
                                          float(control[0].value or 0.0), unit)
    treated_move = f"{treated_name} ({signed_delta_text(treated_shown, unit)})"
    control_move = f"{control_name} ({signed_delta_text(control_shown, unit)})"
    tested = f"difference in differences, {p_text(p_value, alpha)}"
    # the difference a reader computes from the two changes as they are shown
    shown = text.shown_difference(treated_shown, control_shown, unit)
    if not significant:
        return report("no_significant_difference", (
            f"{title}: {metric.label} moved about as much in {treated_move} as in "
            f"{control_move} after the change (difference "
            f"{signed_delta_text(shown, unit)}, {signed_ci}; {tested})."), numbers)
    verdict = goodness(result.estimate, metric.direction)
    sentence = (f"{title}: {metric.label} {movement(result.estimate)} "
                f"{delta_text(shown, unit)} more in {treated_move} than in "
                f"{control_move} after the change")
    expected = "improved" if item.expected == "improve" else "declined"
    size = magnitude(result.estimate, unit, treated[0].value)
    if verdict != expected:
        return report("against_expectation", f"{sentence}, the opposite of what was expected "
                      f"({ci}; {tested}).", numbers, verdict=verdict, size=size)
    return report("effect_vs_control", f"{sentence} ({ci}; {tested}).", numbers,
                  verdict=verdict, size=size)


def _bound(value: float, unit: str) -> str:
    """An interval bound of a difference: ``1.2`` (points) or ``−3.4 minutes``."""
    if unit in POINT_UNITS:
        return text.decimal(value * text.scale(unit), 1)
    return text.value_words(value, unit)


def _where(item: InterventionSpec) -> str:
    return "," + scope_phrase(item.scope) if item.scope else ""


def _held(ctx: InsightContext, calc: Calculator, params: CalculatorParams, rows: pd.DataFrame,
          start: datetime, before: Estimate, delta: float, minimum: int,
          alpha: float) -> dict[str, Any]:
    """Per whole period after the date: the value, and whether it stayed on the effect's side."""
    assert before.value is not None
    side = 1.0 if delta > 0 else -1.0
    later = [p for p in ctx.history if p.start_at >= start and p.start <= ctx.period.start]
    points: list[dict[str, Any]] = []
    latest: Estimate | None = None
    for p in later:
        est = calc.estimate(rows.loc[(rows[PERIOD_COLUMN] == p.key).to_numpy()], params)
        usable = est.value is not None and est.n >= minimum
        points.append({"period": p.key, "value": est.value, "n": est.n,
                       "held": bool(side * ((est.value or 0.0) - before.value) > 0)
                       if usable else None})
        if usable and p == ctx.period:
            latest = est
    judged = [pt for pt in points if pt["held"] is not None]
    latest_p: float | None = None
    latest_significant = False
    if latest is not None:
        change = latest.compare(before, alpha)
        latest_p = change.p_value
        latest_significant = bool(change.significant and change.delta is not None
                                  and side * change.delta > 0)
    kept = [pt for pt in judged if pt["held"]]
    word, where = ctx.period.grain, "above" if side > 0 else "below"
    text = (f"{len(kept)} of {len(judged)} {word}s since the change stayed {where} the "
            f"before level" if judged else f"no whole {word} since the change has enough data")
    return {"periods": points, "held": bool(judged) and len(kept) == len(judged),
            "latest_p": latest_p, "latest_significant": latest_significant, "text": text}
