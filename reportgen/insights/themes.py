"""What dissatisfied customers say: one finding per distinguishing term of a
``comment_themes`` metric (kind ``customer_theme``).

The terms, their z-scores (Monroe et al.'s log-odds ratio with an informative prior) and
the quotes come from the calculator's details, already scrubbed of personal data; this
module only words them.  A term counts as new when last period's dissatisfied comments did
not use it at all, and as growing when its share of them at least doubled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reportgen import text
from reportgen.insights.context import InsightContext
from reportgen.insights.text import share_text
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding

CALCULATOR = "comment_themes"


def theme_findings(ctx: InsightContext) -> list[Finding]:
    """One finding per reported term of every comment-themes metric, strongest first."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator != CALCULATOR or not metric.details:
            continue
        dissatisfied = int(metric.details.get("dissatisfied") or 0)
        compared = bool(metric.details.get("previous_dissatisfied"))
        for rank, term in enumerate(metric.details.get("terms", ())):
            out.append(_finding(ctx, metric, term, dissatisfied, rank, compared))
    return out


def _trend(term: Mapping[str, Any], ctx: InsightContext, compared: bool) -> str:
    if not compared:
        return ""  # no dissatisfied comments last period to compare with
    before = term.get("previous_share")
    if before is None:
        return f"; not used by dissatisfied customers in {ctx.previous.label}"
    share = term.get("share") or 0.0
    if share >= 2 * before:
        return (f"; {share_text(before)} of them in {ctx.previous.label}, so its use at least "
                f"doubled")
    return f"; {share_text(before)} of them in {ctx.previous.label}"


def _finding(ctx: InsightContext, metric: MetricResult, term: Mapping[str, Any],
             dissatisfied: int, rank: int, compared: bool) -> Finding:
    quotes = [q for q in term.get("quotes", ()) if q]
    sentence = (
        f"Dissatisfied customers write \u201c{term['term']}\u201d far more than satisfied ones: "
        f"{text.count(term['count'])} of {text.count(dissatisfied)} dissatisfied comments "
        f"in {ctx.period.label} ({share_text(term.get('share') or 0.0)}) against "
        f"{text.count(term['satisfied_count'])} satisfied (z = {text.decimal(term['z'], 1)})"
        f"{_trend(term, ctx, compared)}.")
    if quotes:
        sentence += " For example: " + " ".join(f"\u201c{q}\u201d" for q in quotes)
    numbers = {k: v for k, v in term.items() if k != "quotes"} | {
        "quotes": list(quotes), "rank": rank + 1, "dissatisfied": dissatisfied}
    # The strongest term leads; each later one weighs a little less.
    return ctx.finding("customer_theme", metric, f"term = {term['term']}", sentence,
                       numbers=numbers, tone="warning",
                       magnitude=max(0.0, min(1.0, term["z"] / 10)) * (1 - 0.1 * rank))
