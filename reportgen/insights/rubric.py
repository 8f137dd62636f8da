"""Findings about whether the QA rubric predicts customer outcomes (``rubric_validity``).

==================  ===========================================================================
kind                what it says
==================  ===========================================================================
rubric_validity     how much each outcome moves per ``per`` points of QA score, with its
                    interval (clustered by agent), and whether it moves the good way
rubric_retire       the rubric items shown to predict none of the outcomes (every effect within
                    its negligible band: equivalence tests, Holm across items), the items that
                    do predict, and those the data cannot yet call either way
==================  ===========================================================================

The figures come from the calculator's ``details``; nothing is recomputed from rows here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportgen import text
from reportgen.insights.context import InsightContext
from reportgen.insights.text import breakdown_noun, join_names, p_text, plural
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding


def rubric_findings(ctx: InsightContext) -> list[Finding]:
    """Every rubric-validity finding of the period."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator != "rubric_validity" or not metric.details:
            continue
        outcomes = {o["column"]: o for o in metric.details.get("outcomes", ())}
        validity = validity_finding(ctx, metric, outcomes)
        if validity is not None:
            out.append(validity)
        retire = retire_finding(ctx, metric, outcomes)
        if retire is not None:
            out.append(retire)
    return out


def _size(value: float, outcome: Mapping[str, Any]) -> str:
    """An effect's size in the outcome's units: ``0.13`` or ``3.2 points`` (binary)."""
    if outcome["kind"] == "binary":
        return f"{text.decimal(abs(value) * 100, 1)} points"
    return text.decimal(abs(value), 2)


def _range(low: float, high: float, outcome: Mapping[str, Any]) -> str:
    scale = 100 if outcome["kind"] == "binary" else 1
    decimals = 1 if outcome["kind"] == "binary" else 2
    return (f"{text.decimal(low * scale, decimals)} to {text.decimal(high * scale, decimals)}"
            + (" points" if outcome["kind"] == "binary" else ""))


def _effect_text(row: Mapping[str, Any], outcome: Mapping[str, Any], level: float) -> str:
    """``CSAT 0.13 higher (95% CI 0.10 to 0.16)``, ``re-contact within 7 days 4.2 points less
    often (...)`` or ``no clear link with CSAT (...)``."""
    bounds = (f"{text.confidence_label(level)} "
              f"{_range(row['low'], row['high'], outcome)}")
    if row["low"] <= 0 <= row["high"]:
        return f"no clear link with {outcome['name']} ({bounds})"
    up = row["effect"] > 0
    if outcome["kind"] == "binary":
        return (f"{outcome['name']} {_size(row['effect'], outcome)} "
                f"{'more' if up else 'less'} often ({bounds})")
    return f"{outcome['name']} {_size(row['effect'], outcome)} {'higher' if up else 'lower'} ({bounds})"


def _good(row: Mapping[str, Any], outcome: Mapping[str, Any]) -> bool | None:
    """True: the interval lies wholly on the good side; False: wholly on the bad; None."""
    if row["low"] > 0 or row["high"] < 0:
        return (row["effect"] > 0) == (outcome["better"] == "higher")
    return None


def validity_finding(ctx: InsightContext, metric: MetricResult,
                     outcomes: Mapping[str, Mapping[str, Any]]) -> Finding | None:
    details = metric.details
    level = float(details.get("confidence", 0.95))
    rows = [r for r in details.get("score", ()) if r.get("effect") is not None]
    if not rows:
        return None
    per = text.decimal(float(details["per"]), 0)
    parts = [_effect_text(r, outcomes[r["outcome"]], level) for r in rows]
    verdicts = [_good(r, outcomes[r["outcome"]]) for r in rows]
    sentence = (f"Tickets whose QA score was {per} points higher had {join_names(parts)} in "
                f"{ctx.period.label} ({text.count(details['reviews'])} reviewed tickets; "
                f"intervals clustered by {breakdown_noun(details['cluster_column'])} over "
                f"{plural(int(details['agents']), 'agent')}).")
    wrong = [outcomes[r["outcome"]]["name"] for r, v in zip(rows, verdicts, strict=True)
             if v is False]
    unclear = [outcomes[r["outcome"]]["name"] for r, v in zip(rows, verdicts, strict=True)
               if v is None]
    if wrong:
        sentence += (f" Higher QA scores go with worse {join_names(wrong)}: the rubric "
                     f"rewards something customers do not.")
    elif unclear:
        sentence += f" The QA score does not clearly predict {join_names(unclear)}."
    else:
        sentence += " The QA score predicts every outcome measured, in the right direction."
    return ctx.finding(
        "rubric_validity", metric, "qa score", sentence,
        numbers={"effects": rows, "per": details["per"], "reviews": details["reviews"],
                 "agents": details["agents"], "significant": any(v is not None for v in verdicts)},
        tone="bad" if wrong else "warning" if unclear else "good")


def retire_finding(ctx: InsightContext, metric: MetricResult,
                   outcomes: Mapping[str, Mapping[str, Any]]) -> Finding | None:
    details = metric.details
    items: Sequence[Mapping[str, Any]] = details.get("items", ())
    if not items:
        return None
    names = [o["name"] for o in outcomes.values()]
    retire = [i["item"] for i in items if i["retire"]]
    predicts = {i["item"]: [outcomes[e["outcome"]]["name"] for e in i["effects"]
                            if e["predicts"]] for i in items}
    useful = [f"{name} ({join_names(on)})" for name, on in predicts.items() if on]
    unclear = [i["item"] for i in items if not i["retire"] and not predicts[i["item"]]]
    per = text.decimal(float(details["per"]), 0)
    alpha = text.percent(float(details["alpha"]), 0)
    bands = join_names([
        f"±{_size(o['negligible'], o)} for {o['name']}" for o in outcomes.values()])
    family = plural(len(items), "item")
    window = details.get("item_window")
    when = (f"over {window['label']} ({text.count(window['reviews'])} reviewed tickets)"
            if window else f"in {ctx.period.label}")
    if retire:
        # the claim holds for every retired item on every outcome: quote its weakest support
        weakest = max(e["p_equivalent_adjusted"] for i in items if i["retire"]
                      for e in i["effects"])
        quoted = join_names([f"'{name}'" for name in retire])
        sentence = (f"Rubric {'items' if len(retire) > 1 else 'item'} {quoted} "
                    f"{'predict' if len(retire) > 1 else 'predicts'} none of "
                    f"{join_names(names)} {when}: per {per} item points, every "
                    f"effect lies within its negligible band ({bands}; equivalence tests, Holm "
                    f"across {family} at {alpha}, largest adjusted {p_text(weakest)}). "
                    f"Candidates to retire.")
    else:
        # the bands are what "nothing" means; the multiplicity rule is the methodology's
        sentence = (f"No rubric item is shown to predict nothing {when}: none "
                    f"has every effect within what would not matter ({bands} per {per} item "
                    f"points).")
    if useful:
        sentence += f" Items that predict outcomes: {join_names(useful)}."
    if unclear:
        sentence += (f" The data cannot yet tell for {join_names(unclear)}: their intervals "
                     f"reach beyond the negligible band.")
    return ctx.finding(
        "rubric_retire", metric, "rubric items", sentence,
        numbers={"retire": retire, "predicts": {k: v for k, v in predicts.items() if v},
                 "unclear": unclear, "family_size": len(items), "alpha": details["alpha"],
                 "adjustment": "Holm", "test": "two one-sided tests (equivalence)",
                 "significant": bool(retire), "window": window, "claim": "equivalence"},
        tone="warning" if retire else "neutral")
