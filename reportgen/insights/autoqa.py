"""Findings about automatic against human scoring (``autoqa_governance``).

================  ==============================================================================
kind              what it says
================  ==============================================================================
autoqa_stand_in   on how many rubric items the automatic score can stand in for reviewers, the
                  items where it cannot (its agreement's lower bound under the minimum, or its
                  bias beyond the band) and the items with too few double-scored ratings to judge
autoqa_drift      an item whose agreement with reviewers moved since the previous period (z-test
                  of the difference, Holm across the items compared)
autoqa_iqs        the IQS from reviewers' own ratings beside the IQS with the automatic ratings
                  a reviewer confirmed, and how many automatic ratings were kept apart
================  ==============================================================================

The figures come from the calculator's ``details``; nothing is recomputed from rows here.
Test results sit in the closing parenthesis, where the report's editor moves them to a
numbered note: the sentence a director reads carries no p-value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportgen import text
from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import join_names, p_text, plural, value_text
from reportgen.report.model.metric_results import MetricResult, Tone
from reportgen.report.model.sections import Finding

#: at most this many items are named in one sentence; the rest are counted
NAMED_ITEMS = 4


def autoqa_findings(ctx: InsightContext) -> list[Finding]:
    """Every AutoQA-governance finding of the period."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator != "autoqa_governance" or not metric.details:
            continue
        details = metric.details
        if details.get("items"):
            out.append(stand_in_finding(ctx, metric))
            out += drift_findings(ctx, metric)
        iqs = iqs_finding(ctx, metric)
        if iqs is not None:
            out.append(iqs)
    return out


def _coefficient(value: float) -> str:
    return text.decimal(value, 2)


def _names(parts: Sequence[str]) -> str:
    if len(parts) <= NAMED_ITEMS:
        return join_names(list(parts))
    return join_names([*parts[:NAMED_ITEMS], f"{len(parts) - NAMED_ITEMS} more"])


def _why_not(item: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    """``Greeting & tone (agreement 0.33, needs 0.6; its ratings run 0.73 points below
    reviewers', allowed ±0.25)``."""
    floor = text.plain(float(details["min_agreement"]))
    reasons = []
    if "agreement" in item["reasons"]:
        value, low = item["agreement"], item["agreement_low"]
        if low is None or value < details["min_agreement"]:
            reasons.append(f"agreement {_coefficient(value)}, needs {floor}")
        else:
            reasons.append(f"agreement {_coefficient(value)} but possibly as low as "
                           f"{_coefficient(low)}, needs {floor}")
    if "bias" in item["reasons"]:
        band = float(details["max_bias"])
        bias = item["bias"]
        side = "above" if bias > 0 else "below"
        runs = f"its ratings run {text.decimal(abs(bias), 2)} points {side} auditors'"
        if abs(bias) <= band:  # within the band, but its interval reaches beyond it
            far = max(abs(item["bias_low"]), abs(item["bias_high"]))
            runs += f", possibly {text.decimal(far, 2)}"
        reasons.append(f"{runs}, allowed ±{text.plain(band)}")
    return f"{item['item']} ({'; '.join(reasons)})"


def stand_in_finding(ctx: InsightContext, metric: MetricResult) -> Finding:
    details = metric.details
    items: Sequence[Mapping[str, Any]] = details["items"]
    needed = int(details["min_pairs"])
    stands = [i for i in items if i["status"] == "stands_in"]
    cannot = sorted((i for i in items if i["status"] == "cannot_stand_in"),
                    key=lambda i: (i["agreement"], i["item"]))
    unjudged = [i for i in items if i["status"] == "not_judged"]
    judged = len(stands) + len(cannot)
    period = ctx.period.label
    pairs = sum(int(i["pairs"]) for i in items)
    if not judged:
        if not pairs:
            sentence = (f"No auditor double-scored any of the automatic scorer's "
                        f"{text.count(sum(int(i['automatic']) for i in items))} ratings in "
                        f"{period}: not enough data to tell whether it can stand in for "
                        f"auditors.")
        else:
            most = max(items, key=lambda i: (i["pairs"], i["item"]))
            sentence = (f"Not enough double-scored ratings in {period} to tell whether the "
                        f"automatic scorer can stand in for auditors: no rubric item had the "
                        f"{needed} needed (most: {text.count(most['pairs'])}, on "
                        f"{most['item']}).")
        return ctx.finding("autoqa_stand_in", metric, "rubric items", sentence,
                           numbers=_stand_in_numbers(details, stands, cannot, unjudged),
                           tone="warning")
    sentence = (f"The automatic scorer can stand in for auditors on {len(stands)} of "
                f"{plural(judged, 'rubric item')} in {period}")
    if cannot:
        sentence += f"; not on {_names([_why_not(i, details) for i in cannot])}"
    sentence += "."
    if unjudged:
        few = [f"{i['item']} ({text.count(i['pairs'])})" for i in unjudged]
        sentence += (f" Too few double-scored ratings to judge {_names(few)}: {needed} are "
                     f"needed.")
    level = text.percent(float(details["confidence"]), 0)
    # The coefficient's name is the methodology's; the body says what it measures.
    sentence += (f" Agreement measures how far the automatic and the auditor's rating of the "
                 f"same item match beyond chance, over {text.count(pairs)} ratings both "
                 f"scored; the low end of its {level} interval must reach "
                 f"{text.plain(float(details['min_agreement']))}.")
    tone: Tone = "bad" if cannot else "warning" if unjudged else "good"
    worst = max((float(details["min_agreement"]) - i["agreement"] for i in cannot), default=0.0)
    return ctx.finding("autoqa_stand_in", metric, "rubric items", sentence,
                       numbers=_stand_in_numbers(details, stands, cannot, unjudged),
                       tone=tone, magnitude=max(0.0, min(1.0, worst)))


def _stand_in_numbers(details: Mapping[str, Any], stands: Sequence[Mapping[str, Any]],
                      cannot: Sequence[Mapping[str, Any]],
                      unjudged: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"stands_in": [i["item"] for i in stands],
            "cannot_stand_in": [{"item": i["item"], "reasons": list(i["reasons"]),
                                 "agreement": i["agreement"], "low": i["agreement_low"],
                                 "bias": i["bias"]} for i in cannot],
            "not_judged": [i["item"] for i in unjudged],
            "coefficient": details["coefficient"], "min_agreement": details["min_agreement"],
            "max_bias": details["max_bias"], "min_pairs": details["min_pairs"]}


def drift_findings(ctx: InsightContext, metric: MetricResult) -> list[Finding]:
    """One finding per item whose agreement moved beyond chance (Holm across items)."""
    details = metric.details
    family = int(details.get("drift_tested") or 0)
    level = float(details["confidence"])
    out = []
    for item in details["items"]:
        if not item.get("drifted"):
            continue
        now, before = item["agreement"], item["previous_agreement"]
        fell = now < before
        sentence = (
            f"The automatic scorer's agreement with auditors on {item['item']} "
            f"{'fell' if fell else 'rose'} from {_coefficient(before)} to {_coefficient(now)} "
            f"since {ctx.previous.label} ({text.confidence_label(level)} now "
            f"{_coefficient(item['agreement_low'])} to {_coefficient(item['agreement_high'])}; "
            f"{p_text(item['drift_p_adjusted'])}, allowing for the "
            f"{plural(family, 'item')} compared).")
        out.append(ctx.finding(
            "autoqa_drift", metric, f"item = {item['item']}", sentence,
            numbers={"item": item["item"], "agreement": now, "previous": before,
                     "coefficient": details["coefficient"], "z": item["drift_z"],
                     "p_value": item["drift_p"], "p_adjusted": item["drift_p_adjusted"],
                     "family_size": family, "significant": True,
                     "test": "z-test of the difference of two independent coefficients",
                     "adjustment": "Holm"},
            direction="declined" if fell else "improved", tone="bad" if fell else "good",
            magnitude=min(1.0, abs(now - before) / 0.5)))
    return out


def iqs_finding(ctx: InsightContext, metric: MetricResult) -> Finding | None:
    """The human IQS beside the confirmed one, when automatic ratings touch the IQS."""
    iqs = metric.details.get("iqs") or {}
    kept, confirmed = int(iqs.get("kept_apart") or 0), int(iqs.get("confirmed_scores") or 0)
    human = iqs.get("human") or {}
    if (not kept and not confirmed) or human.get("iqs") is None:
        return None
    with_confirmed, counted = iqs["confirmed"], iqs["all_automatic_counted"]
    sentence = (f"IQS from auditors' own ratings was {value_text(human['iqs'], 'score')} in "
                f"{ctx.period.label} ({plural(int(human['reviews']), 'review')})")
    if confirmed:
        sentence += (f"; with the {text.count(confirmed)} automatic ratings an auditor "
                     f"confirmed, {value_text(with_confirmed['iqs'], 'score')} "
                     f"({plural(int(with_confirmed['reviews']), 'review')})")
    sentence += "."
    if kept:
        column = iqs.get("confirmed_column")
        unconfirmed = "no auditor confirmed" if column else "unconfirmed"
        sentence += (f" {text.count(kept)} automatic ratings {unconfirmed} were kept apart")
        if iqs.get("kept_apart_reviews"):
            sentence += (f" ({plural(int(iqs['kept_apart_reviews']), 'review')} scored only "
                         f"by the automatic scorer)")
        if counted.get("iqs") is not None:
            sentence += (f"; counted, they would put the IQS at "
                         f"{value_text(counted['iqs'], 'score')}")
        sentence += "."
    gap = None if counted.get("iqs") is None else counted["iqs"] - human["iqs"]
    return ctx.finding(
        "autoqa_iqs", metric, "iqs", sentence,
        numbers={"human_iqs": human["iqs"], "human_reviews": human["reviews"],
                 "confirmed_iqs": with_confirmed["iqs"],
                 "confirmed_reviews": with_confirmed["reviews"],
                 "all_counted_iqs": counted.get("iqs"), "confirmed_scores": confirmed,
                 "kept_apart": kept, "kept_apart_reviews": iqs.get("kept_apart_reviews")},
        tone="neutral", magnitude=magnitude(gap, "score"))
