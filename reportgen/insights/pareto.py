"""Top causes: the few defect or contact-reason categories that make up most occurrences.

The pareto is over a cause breakdown's numerators (defects found, contacts received) in
the report period: categories are taken largest first until they cover
``insights.pareto_cut`` of all occurrences.  Which causes grew is a segment claim like any
other (``segments``): Holm-adjusted across the metric's segments and, for rates, only
behind a significant overall change, so the pareto names growth only when the data
supports it.  For a rate (defects per rated category) growth is the category's own rate;
for a count (contacts by reason) it is the cause's share of the total.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportgen.insights.context import InsightContext
from reportgen.insights.segments import (
    SegmentTest,
    claim_text,
    is_cause_breakdown,
    segment_findings,
    segment_numbers,
    significant,
)
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    breakdown_noun,
    goodness,
    join_names,
    movement,
    plural,
    share_text,
    tone_of,
    value_text,
)
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.sections import Finding

#: A pareto of fewer categories than this says nothing a table does not.
MIN_CATEGORIES = 3
#: Causes named in one sentence; the rest are counted.
NAMED_CAUSES = 6


def pareto_findings(ctx: InsightContext, metric: MetricResult,
                    tests: Sequence[SegmentTest]) -> list[Finding]:
    """The top-causes finding of each cause breakdown of ``metric``, and the causes that grew."""
    out: list[Finding] = []
    for breakdown, rows in metric.breakdowns.items():
        if not is_cause_breakdown(ctx, metric, breakdown):
            continue
        mine = [t for t in tests if t.breakdown == breakdown]
        grew = [t for t in significant(mine) if _grew(t)]
        top = _top_causes(ctx, metric, breakdown, rows, grew)
        if top is not None:
            out.append(top)
        values = [t for t in mine if t.measure == "value"]
        out += segment_findings(ctx, metric, [t for t in values if _grew(t)], kind="cause_growth")
        out += segment_findings(ctx, metric, [t for t in values if not _grew(t)])
        # A cause taking a larger share of a count is news; the others' shares shrinking is
        # its arithmetic echo (shares sum to one), so only growth is stated.
        out += [_share_finding(ctx, metric, t) for t in grew if t.measure == "share"]
    return out


def _grew(test: SegmentTest) -> bool:
    return test.delta > 0


def bad_outcomes(metric: MetricResult, row: BreakdownRow) -> float:
    """The occurrences a cause breakdown counts in ``row``: the bad outcomes only.

    For a rate where higher is better (CSAT by contact reason) the numerator counts good
    outcomes, which no one would call causes: the misses are ``denominator - numerator``.
    For a rate where lower is better (defects) and for counts (contacts by reason) the
    numerator is what is counted.
    """
    if row.numerator is None:
        return 0.0
    if row.denominator is not None and metric.direction == "higher":
        return max(float(row.denominator) - float(row.numerator), 0.0)
    return float(row.numerator)


def vital_few(counts: Sequence[float], cut: float) -> int:
    """How many of ``counts`` (largest first) it takes to cover ``cut`` of their total: the
    Pareto cut, the same for the top-causes finding and the pareto chart.

    A running share within 1e-9 of the cut reaches it (a cut written as a rounded decimal).
    """
    total = sum(counts)
    running = 0.0
    for i, count in enumerate(counts):
        running += count
        if total and running / total >= cut - 1e-9:
            return i + 1
    return len(counts)


def pareto(rows: Sequence[BreakdownRow], cut: float,
           count: Callable[[BreakdownRow], float] = lambda r: float(r.numerator or 0),
           ) -> tuple[list[BreakdownRow], float]:
    """The largest categories covering ``cut`` of the occurrences, and the total counted."""
    counted = sorted((r for r in rows if count(r) > 0), key=lambda r: (-count(r), r.label))
    counts = [count(r) for r in counted]
    return counted[:vital_few(counts, cut)], sum(counts)


def _top_causes(ctx: InsightContext, metric: MetricResult, breakdown: str,
                rows: Sequence[BreakdownRow], grew: Sequence[SegmentTest]) -> Finding | None:
    def count(row: BreakdownRow) -> float:
        return bad_outcomes(metric, row)

    if sum(1 for r in rows if count(r)) < MIN_CATEGORIES:
        return None
    cut = ctx.definition.insights.pareto_cut
    top, total = pareto(rows, cut, count)
    if not top or not total:
        return None
    covered = sum(count(r) for r in top) / total
    noun = breakdown_noun(breakdown)
    parts = [f"{r.label} ({share_text(count(r) / total)})" for r in top[:NAMED_CAUSES]]
    if len(top) > NAMED_CAUSES:
        parts.append(f"{len(top) - NAMED_CAUSES} more")
    counted = sum(1 for r in rows if count(r))
    misses = any(r.denominator is not None for r in rows) and metric.direction == "higher"
    what = (f"outcomes not counted as {metric.label}" if misses
            else f"{metric.label} occurrences")
    sentence = (f"{join_names(parts)} account for {share_text(covered)} of the "
                f"{value_text(total, 'count')} {what} in {ctx.period.label} "
                f"({len(top)} of {plural(counted, noun)}).")
    grown = [t for t in grew if t.row.label in {r.label for r in top}]
    if grown:
        sentence += f" Of these, {join_names([t.row.label for t in grown])} grew significantly."
    numbers = {
        "breakdown": breakdown, "cut": cut, "covered": covered, "total": total,
        "counted": "bad outcomes (denominator - numerator)" if misses else "numerator",
        "categories": [{"category": r.label, "count": count(r),
                        "share": count(r) / total} for r in top],
        "grew": [t.row.label for t in grown], "significant": bool(grown),
        "counted_categories": counted,  # the M of "(5 of 8 categories)"
    }
    bad = bool(grown) and metric.direction == "lower"
    return ctx.finding("top_causes", metric, f"by {breakdown}", sentence, numbers=numbers,
                       tone="bad" if bad else "neutral")


def _share_finding(ctx: InsightContext, metric: MetricResult, test: SegmentTest) -> Finding:
    """A cause whose share of a count changed significantly (a volume has no rate to test)."""
    # A count's direction says whether more in total is good; for the share one cause
    # takes, that judgement only holds when less of the metric is better (defects).
    verdict = goodness(test.delta, metric.direction) if metric.direction == "lower" else "none"
    sentence = (f"{test.row.label} {movement(test.delta)} to {share_text(test.value)} of "
                f"{metric.label} in {ctx.period.label} "
                f"({value_text(test.row.numerator or 0, 'count')}), from "
                f"{share_text(test.previous)} in {ctx.previous.label} ({claim_text(test)}).")
    return ctx.finding(
        "cause_growth", metric, f"{test.breakdown} = {test.row.label}", sentence,
        numbers=segment_numbers(test), direction=verdict,
        tone=tone_of(verdict) if verdict != "none" else "warning",
        magnitude=magnitude(test.delta, "percent"),
        reach=test.value)
