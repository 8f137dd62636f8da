"""What dissatisfied customers say: one finding per theme of a ``comment_themes`` metric
(kind ``customer_theme``).

The themes (phrases where customers use one), their counts, trends and quotes come from the
calculator's details, already scrubbed of personal data; this module only words them.  The
sentence says how many dissatisfied comments mention the theme and how that share moved
since last period; the statistic that ranked it (Monroe et al.'s log-odds z against the
satisfied comments) goes to the methodology's statistical notes, not to the sentence.
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
    """One finding per reported theme of every comment-themes metric, strongest first."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.calculator != CALCULATOR or not metric.details:
            continue
        for rank, term in enumerate(metric.details.get("terms", ())):
            out.append(_finding(ctx, metric, term, rank))
    return out


def _trend(term: Mapping[str, Any], ctx: InsightContext) -> str:
    """How the theme's share of dissatisfied comments moved since last period, as a clause."""
    trend, before = term.get("trend"), term.get("previous_share")
    when = ctx.previous.label
    if trend is None:
        return ""  # no dissatisfied comments last period to compare with
    if trend == "new" or before is None:
        return f"; none of their comments mentioned it in {when}: a new theme"
    now_text, before_text = share_text(term.get("share") or 0.0), share_text(before)
    if trend == "growing":
        return f", up from {before_text} in {when}: a growing theme"
    if trend == "fading":
        return f", down from {before_text} in {when}: a fading theme"
    if now_text == before_text:
        return f", the same share as in {when}"
    moved = "up" if (term.get("share") or 0.0) > before else "down"
    return f", {moved} from {before_text} in {when}"


def _finding(ctx: InsightContext, metric: MetricResult, term: Mapping[str, Any],
             rank: int) -> Finding:
    details = metric.details or {}
    dissatisfied = int(details.get("dissatisfied") or 0)
    satisfied = int(details.get("satisfied") or 0)
    quotes = [q for q in term.get("quotes", ()) if q]
    # The parenthesis with the z-score becomes a statistical note (see insights.text).
    sentence = (
        f"Customers who were dissatisfied often mention \u201c{term['term']}\u201d: "
        f"{text.count(term['count'])} of {text.count(dissatisfied)} comments "
        f"({share_text(term.get('share') or 0.0)}){_trend(term, ctx)} "
        f"(log-odds z = {text.decimal(term['z'], 1)} against the {text.count(satisfied)} "
        f"satisfied comments, {text.count(term['satisfied_count'])} of which mention it).")
    if quotes:
        sentence += " For example: " + " ".join(f"\u201c{q}\u201d" for q in quotes)
    numbers = {k: v for k, v in term.items() if k != "quotes"} | {
        "quotes": list(quotes), "rank": rank + 1, "dissatisfied": dissatisfied,
        "satisfied": satisfied}
    # The strongest theme leads; each later one weighs a little less.
    # The scope names the theme as a heading does ("Refund policy theme").
    return ctx.finding("customer_theme", metric, f"theme = {term['term'].capitalize()}", sentence,
                       numbers=numbers, tone="warning",
                       magnitude=max(0.0, min(1.0, term["z"] / 10)) * (1 - 0.1 * rank))
