"""Findings about moderation decisions checked against gold labels (``moderation_quality``).

=======================  ===================================================================
kind                     what it says
=======================  ===================================================================
moderation_quality       precision and recall with their intervals, against the previous
                         period; the cells (policy area x language) whose precision or recall
                         is below the rest's beyond chance (Holm across cells)
moderation_overturns     the share of appealed decisions overturned, its interval and its
                         change against the previous period (two-proportion z-test)
moderation_error_areas   the few policy areas that make up ``insights.pareto_cut`` of the
                         wrong decisions (false positives + false negatives)
=======================  ===================================================================

The figures come from the calculator's ``details``; nothing is recomputed from rows here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportgen import text
from reportgen.insights.context import InsightContext
from reportgen.insights.pareto import MIN_CATEGORIES, NAMED_CAUSES, pareto
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    breakdown_noun,
    difference_text,
    join_names,
    p_text,
    plural,
    share_text,
    value_text,
)
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.sections import Finding

_AMONG = {"precision": "enforced", "recall": "that needed enforcing"}


def moderation_findings(ctx: InsightContext) -> list[Finding]:
    """Every moderation-quality finding of the period."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator != "moderation_quality" or not metric.details:
            continue
        details = metric.details
        if details.get("overall", {}).get("n"):
            out.append(quality_finding(ctx, metric))
            areas = error_areas_finding(ctx, metric)
            if areas is not None:
                out.append(areas)
        overturns = details.get("overturns")
        if overturns and overturns.get("appealed"):
            out.append(overturn_finding(ctx, metric, overturns))
    return out


def _rate(row: Mapping[str, Any], measure: str, level: float) -> str:
    """``precision 96.0% (95% CI 94.6–97.0%; 1,289 enforced)``."""
    if row.get(measure) is None:
        return f"{measure} not measurable (none {_AMONG[measure]})"
    bounds = ""
    if row.get(f"{measure}_low") is not None:
        bounds = (f"{text.confidence_label(level)} "
                  f"{text.interval(row[f'{measure}_low'], row[f'{measure}_high'], 'percent')}; ")
    return (f"{measure} {value_text(row[measure], 'percent')} ({bounds}"
            f"{text.count(row[f'{measure}_n'])} {_AMONG[measure]})")


def quality_finding(ctx: InsightContext, metric: MetricResult) -> Finding:
    details = metric.details
    level = float(details.get("confidence", 0.95))
    overall, previous = details["overall"], details.get("previous")
    sentence = (f"Moderation decisions checked against gold labels in {ctx.period.label}: "
                f"{_rate(overall, 'precision', level)} and {_rate(overall, 'recall', level)}")
    changed = None  # the change against the previous period, where it was tested
    if previous and previous.get("precision") is not None and previous.get("recall") is not None:
        sentence += (f", against {value_text(previous['precision'], 'percent')} and "
                     f"{value_text(previous['recall'], 'percent')} in {ctx.previous.label}")
        change = metric.change
        if change is not None and change.p_value is not None:
            changed = bool(change.significant)
            # the test's note is headed by the metric's label, which names the measure
            sentence += f" ({p_text(change.p_value)} against {ctx.previous.label})"
    sentence += "."
    if details.get("cluster_column"):
        sentence += (" The intervals allow for decisions clustered by "
                     f"{breakdown_noun(details['cluster_column'])}.")
    alpha = ctx.alpha(metric.metric_id)
    cells: Sequence[Mapping[str, Any]] = details.get("cells", ())
    below = [(cell, measure) for cell in cells for measure in ("precision", "recall")
             if cell.get(f"{measure}_p_adjusted") is not None
             and cell[f"{measure}_p_adjusted"] < alpha
             and cell[measure] is not None and cell[f"{measure}_rest"] is not None
             and cell[measure] < cell[f"{measure}_rest"]]
    noun = " x ".join(str(c).replace("_", " ") for c in details.get("cell_columns", ()))
    if below:
        parts = [f"{cell['label']} on {measure} ({value_text(cell[measure], 'percent')}, "
                 f"{text.confidence_label(level)} "
                 f"{text.interval(cell[f'{measure}_low'], cell[f'{measure}_high'], 'percent')}, "
                 f"against {value_text(cell[f'{measure}_rest'], 'percent')} elsewhere; "
                 f"{p_text(cell[f'{measure}_p_adjusted'])} for {cell['label']} on {measure})"
                 for cell, measure in below]
        sentence += (f" Below the rest beyond chance, allowing for the "
                     f"{plural(len(cells), 'cell')} ({noun}) compared: {join_names(parts)}.")
    elif len(cells) > 1:
        sentence += (f" No cell ({noun}) differs from the rest beyond chance "
                     f"({len(cells)} compared).")
    # how much a cell matters: its gap to the rest, in proportion to its share of the
    # decisions measured (a cell of two decisions far below the rest is a small matter)
    gap = max(((cell[f"{m}_rest"] - cell[m]) * cell[f"{m}_n"] / max(overall.get(f"{m}_n") or 1, 1)
               for cell, m in below), default=0.0)
    return ctx.finding(
        "moderation_quality", metric, "overall", sentence,
        numbers={"precision": overall.get("precision"), "recall": overall.get("recall"),
                 "previous_precision": previous.get("precision") if previous else None,
                 "previous_recall": previous.get("recall") if previous else None,
                 "below": [{"cell": cell["label"], "measure": measure,
                            "value": cell[measure], "rest": cell[f"{measure}_rest"],
                            "p_adjusted": cell[f"{measure}_p_adjusted"]}
                           for cell, measure in below],
                 # the editor's verdict belongs to the first test the sentence reports: the
                 # change when there was one; the cells' comparison says its own verdict
                 "significant": bool(below) if changed is None else changed,
                 "cells_below": bool(below), "adjustment": "Holm", "family_size": len(cells)},
        tone="bad" if below else "neutral", magnitude=magnitude(gap, "percent"))


def overturn_finding(ctx: InsightContext, metric: MetricResult,
                     overturns: Mapping[str, Any]) -> Finding:
    level = float(metric.details.get("confidence", 0.95))
    rate = overturns["rate"]
    bounds = (f"{text.confidence_label(level)} "
              f"{text.interval(overturns['low'], overturns['high'], 'percent')}; "
              if overturns.get("low") is not None else "")
    sentence = (f"Appeals overturned {value_text(rate, 'percent')} of appealed moderation "
                f"decisions in {ctx.period.label} ({bounds}"
                f"{text.count(overturns['overturned'])} of {text.count(overturns['appealed'])})")
    previous, p = overturns.get("previous_rate"), overturns.get("p_value")
    alpha = ctx.alpha(metric.metric_id)
    significant = previous is not None and p is not None and p < alpha
    direction: Any = "none"
    if previous is not None and p is not None:
        if significant:
            up = rate > previous
            sentence += (f", {'up' if up else 'down'} from {value_text(previous, 'percent')} in "
                         f"{ctx.previous.label} ({difference_text(rate, previous, 'percent')}; "
                         f"{p_text(p)})")
            direction = "declined" if up else "improved"
        else:
            # the report's editor says what the test means ("within normal variation")
            sentence += (f", against {value_text(previous, 'percent')} in {ctx.previous.label} "
                         f"({p_text(p)})")
    elif previous is None:
        sentence += f"; no appeals in {ctx.previous.label} to compare with"
    sentence += "."
    return ctx.finding(
        "moderation_overturns", metric, "appeals", sentence,
        numbers={**overturns, "significant": significant}, direction=direction,
        tone="bad" if direction == "declined" else "good" if direction == "improved"
        else "neutral",
        magnitude=magnitude(rate - previous, "percent") if significant else 0.0)


def error_areas_finding(ctx: InsightContext, metric: MetricResult) -> Finding | None:
    details = metric.details
    areas: Sequence[Mapping[str, Any]] = details.get("areas", ())
    by_name = {a["area"]: a for a in areas}
    rows = [BreakdownRow(key=(a["area"],), value=None, n=a["labelled"], numerator=a["errors"])
            for a in areas]
    if sum(1 for r in rows if r.numerator) < MIN_CATEGORIES:
        return None
    cut = ctx.definition.insights.pareto_cut
    top, total = pareto(rows, cut)
    if not top or not total:
        return None
    covered = sum(float(r.numerator or 0) for r in top) / total
    false_pos = sum(a["false_positives"] for a in areas)
    false_neg = sum(a["false_negatives"] for a in areas)
    noun = str(details.get("area_column", "policy_area")).replace("_", " ")
    parts = []
    for row in top[:NAMED_CAUSES]:
        area = by_name[row.label]
        parts.append(f"{text.value_label(row.label)} ({text.count(area['errors'])}: "
                     f"{plural(area['false_positives'], 'false positive')}, "
                     f"{plural(area['false_negatives'], 'false negative')})")
    if len(top) > NAMED_CAUSES:
        parts.append(f"{len(top) - NAMED_CAUSES} more")
    counted = sum(1 for r in rows if r.numerator)
    sentence = (f"{join_names(parts)} account for {share_text(covered)} of the "
                f"{text.count(total)} wrong moderation decisions in the gold-labelled sample in "
                f"{ctx.period.label} ({text.count(false_pos)} actions that should not have been "
                f"taken, {text.count(false_neg)} missed; {len(top)} of "
                f"{plural(counted, noun)}).")
    return ctx.finding(
        "moderation_error_areas", metric, f"by {details.get('area_column', 'policy_area')}",
        sentence,
        numbers={"cut": cut, "covered": covered, "total": total,
                 "false_positives": false_pos, "false_negatives": false_neg,
                 "areas": [dict(by_name[r.label], share=float(r.numerator or 0) / total)
                           for r in top]},
        tone="warning")
