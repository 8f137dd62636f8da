"""Findings about the QA programme: reviewers, coverage, disputes and automatic scoring.

==================  ======================  ==================================================
kind                calculator              what it says
==================  ======================  ==================================================
reviewer_bias       reviewer_consistency    a reviewer leans away from the reference beyond
                                            chance (Holm across reviewers) and by at least the
                                            material bias; the question they lean most on
reviewer_bias_trend reviewer_consistency    a reviewer's bias changed since last period
                                            (Welch, Holm across reviewers)
coverage_gap        qa_coverage             agents short of the review goal, and agents whose
                                            score interval is too wide to act on
dispute_outlier     dispute_accept_rate     a segment (category, reviewer...) whose disputes
                                            are accepted more or less often than the rest's
                                            (two-proportion z-test, Holm across segments)
auto_scoring_weak   auto_human_kappa        questions on which automatic scores agree with
                                            reviewers below the minimum kappa (the interval's
                                            upper bound below it)
==================  ======================  ==================================================

The figures come from the calculators' ``details`` and breakdowns; nothing is recomputed
from rows here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportgen import text
from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    breakdown_noun,
    p_text,
    plural,
    plural_noun,
    share_text,
    value_text,
)
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.sections import Finding
from reportgen.stats import significance as stats


def qa_programme_findings(ctx: InsightContext) -> list[Finding]:
    """Every QA-programme finding of the period."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator == "reviewer_consistency" and metric.details:
            out += reviewer_findings(ctx, metric)
        elif metric.calculator == "qa_coverage" and metric.details:
            out += coverage_findings(ctx, metric)
        elif metric.calculator == "dispute_accept_rate":
            out += dispute_findings(ctx, metric)
        elif metric.calculator == "auto_human_kappa" and metric.details:
            out += auto_scoring_findings(ctx, metric)
    return out


def _reference(details: Mapping[str, Any]) -> str:
    return "the consensus" if details.get("reference") == "consensus" else "the calibrator"


def _rating_points(value: float) -> str:
    return f"{text.decimal(abs(value), 2)} rating points"


def reviewer_findings(ctx: InsightContext, metric: MetricResult) -> list[Finding]:
    details = metric.details
    rows: Sequence[Mapping[str, Any]] = details.get("reviewers", ())
    reference = _reference(details)
    family = sum(1 for r in rows if r.get("p_adjusted") is not None)
    out: list[Finding] = []
    for row in rows:
        if row.get("flagged"):
            out.append(_bias_finding(ctx, metric, row, reference, family))
        adjusted = row.get("change_p_adjusted")
        previous = row.get("previous_bias")
        if adjusted is not None and previous is not None and adjusted < ctx.alpha(metric.metric_id):
            away = abs(row["bias"]) > abs(previous)
            sentence = (
                f"Auditor {row['reviewer']} {'drifted away from' if away else 'moved closer to'} "
                f"{reference}: {_lean_text(row['bias'], reference)} per rating in "
                f"{ctx.period.label}, against {_lean_text(previous, reference)} in "
                f"{ctx.previous.label} ({p_text(adjusted)}, allowing for the "
                f"{plural(family, 'auditor')} compared).")
            out.append(ctx.finding(
                "reviewer_bias_trend", metric, f"auditor = {row['reviewer']}", sentence,
                numbers={**_numbers(row), "significant": True, "test": "Welch's t-test",
                         "adjustment": "Holm"},
                direction="declined" if away else "improved",
                tone="bad" if away else "good",
                magnitude=abs(row["bias"] - previous)))
    return out


def _lean_text(bias: float, reference: str) -> str:
    if abs(bias) < 0.005:
        return f"level with {reference}"
    return f"{_rating_points(bias)} {'above' if bias > 0 else 'below'} {reference}"


def _bias_finding(ctx: InsightContext, metric: MetricResult, row: Mapping[str, Any],
                  reference: str, family: int) -> Finding:
    questions = [q for q in row.get("questions", ()) if q.get("bias") is not None]
    worst = max(questions, key=lambda q: abs(q["bias"]) * (q["bias"] * row["bias"] > 0),
                default=None)
    lean = "generously" if row["bias"] > 0 else "strictly"
    sentence = (
        f"Auditor {row['reviewer']} rates {lean}: {_lean_text(row['bias'], reference)} on "
        f"average ({text.confidence_label(ctx.definition.statistics.confidence)} "
        f"{text.interval(row['low'], row['high'], 'number')}; "
        f"{text.count(row['n'])} ratings; {p_text(row['p_adjusted'])}, allowing for the "
        f"{plural(family, 'auditor')} compared)")
    if worst is not None and worst["n"]:
        sign = "+" if worst["bias"] > 0 else ""
        sentence += f", most on '{worst['question']}' ({sign}{text.decimal(worst['bias'], 2)})"
    sentence += "."
    return ctx.finding("reviewer_bias", metric, f"auditor = {row['reviewer']}", sentence,
                       numbers={**_numbers(row), "significant": True, "claim": "difference",
                                "worst_question": worst["question"] if worst else None},
                       tone="bad", magnitude=min(1.0, abs(row["bias"])))


def _numbers(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "questions"}


def coverage_findings(ctx: InsightContext, metric: MetricResult) -> list[Finding]:
    details = metric.details
    agents: Sequence[Mapping[str, Any]] = details.get("agents", ())
    if not agents:
        return []
    below = sorted((a for a in agents if a["below_goal"]), key=lambda a: (a["reviews"], a["agent"]))
    wide = [a for a in agents if a["too_wide"]]
    if not below and not wide:
        return []
    parts = []
    if below:
        names = ", ".join(f"{a['agent']} ({a['reviews']})" for a in below[:4])
        more = f" and {len(below) - 4} more" if len(below) > 4 else ""
        parts.append(f"{len(below)} of {len(agents)} agents reviewed in {ctx.period.label} "
                     f"({share_text(len(below) / len(agents))}) had fewer than the goal of "
                     f"{details['goal']} reviews: {names}{more}")
    if wide:
        parts.append(f"{plural(len(wide), 'agent')}' QA scores are too uncertain to act on "
                     f"(interval half-width above {value_text(details['max_half_width'], 'score')}"
                     f" points, or a single review)")
    median = details.get("median_reviews")
    sentence = "; ".join(parts) + (f". The median agent had {text.decimal(median, 0)} reviews."
                                   if median is not None else ".")
    return [ctx.finding("coverage_gap", metric, "overall", sentence,
                        numbers={"below_goal": len(below), "too_wide": len(wide),
                                 "agents": len(agents), "goal": details["goal"],
                                 "median_reviews": median},
                        tone="warning", magnitude=len(below) / len(agents))]


def dispute_findings(ctx: InsightContext, metric: MetricResult) -> list[Finding]:
    """Segments whose disputes are accepted more (or less) often than the rest's."""
    out: list[Finding] = []
    if metric.numerator is None or not metric.denominator:
        return out
    alpha = ctx.alpha(metric.metric_id)
    for breakdown, rows in metric.breakdowns.items():
        tested = []
        for row in rows:
            if row.numerator is None or not row.denominator:
                continue
            rest_k = metric.numerator - row.numerator
            rest_n = metric.denominator - row.denominator
            if rest_n <= 0:
                continue
            _, p = stats.two_proportion_ztest(row.numerator, row.denominator, rest_k, rest_n)
            tested.append((row, rest_k / rest_n, rest_n, p))
        if not tested:
            continue
        adjusted, reject = stats.holm_rejections([t[3] for t in tested], alpha)
        for (row, rest, rest_n, _), rej, adj in zip(tested, reject, adjusted, strict=True):
            if rej and row.suppressed is None:
                out.append(_dispute_finding(ctx, metric, breakdown, row, rest, rest_n,
                                            float(adj), len(tested)))
    return out


def _dispute_finding(ctx: InsightContext, metric: MetricResult, breakdown: str,
                     row: BreakdownRow, rest: float, rest_n: float, p_adjusted: float,
                     family: int) -> Finding:
    assert row.numerator is not None and row.denominator
    rate = row.numerator / row.denominator
    noun = breakdown_noun(breakdown)
    name = " / ".join(row.key)
    interval = text.interval_text(row.interval, "percent") if row.interval else ""
    often = "more" if rate > rest else "less"
    sentence = (
        f"Disputes on {noun} '{name}' were accepted {value_text(rate, 'percent')} of the time "
        f"in {ctx.period.label} ({interval + '; ' if interval else ''}"
        f"{text.count(row.numerator)} of {text.count(row.denominator)} resolved), "
        f"{often} often than the {value_text(rest, 'percent')} of the other "
        f"{plural_noun(noun)}' ({text.count(rest_n)} resolved; {p_text(p_adjusted)}, allowing "
        f"for the {family} {plural_noun(noun)} compared).")
    if rate > rest:
        sentence += " Auditors' ratings there are overturned unusually often."
    return ctx.finding("dispute_outlier", metric, f"{breakdown} = {name}", sentence,
                       numbers={"rate": rate, "rest": rest, "rest_n": rest_n, "n": row.denominator,
                                "accepted": row.numerator, "p_adjusted": p_adjusted,
                                "family_size": family, "significant": True,
                                "claim": "difference", "test": "two-proportion z-test", "adjustment": "Holm"},
                       tone="bad" if rate > rest else "neutral",
                       magnitude=magnitude(rate - rest, "percent"))


def auto_scoring_findings(ctx: InsightContext, metric: MetricResult) -> list[Finding]:
    details = metric.details
    floor = float(details.get("min_kappa", 0.6))
    weak = [q for q in details.get("questions", ())
            if q.get("kappa") is not None and q.get("high") is not None and q["high"] < floor]
    out = []
    for q in sorted(weak, key=lambda q: q["kappa"]):
        pooled = (f", against {text.decimal(metric.value, 2)} over all questions"
                  if metric.value is not None else "")
        sentence = (
            f"Automatic scores agree poorly with auditors on '{q['question']}': Cohen's kappa "
            f"{text.decimal(q['kappa'], 2)} ({text.confidence_label(ctx.definition.statistics.confidence)} "
            f"{text.interval(q['low'], q['high'], 'number')}; {text.count(q['n'])} "
            f"ratings; same rating {share_text(q['agreement'])} of the time){pooled}. Below "
            f"{text.decimal(floor, 2)}, keep human review for this question.")
        out.append(ctx.finding("auto_scoring_weak", metric, f"question = {q['question']}",
                               sentence, numbers={**q, "min_kappa": floor},
                               tone="bad", magnitude=min(1.0, floor - q["kappa"])))
    return out

