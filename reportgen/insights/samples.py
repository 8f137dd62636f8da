"""Small samples: say where a value is withheld, and claim nothing about it.

The engine withholds (suppresses) any value on fewer observations than the metric's
minimum.  Every other finding kind skips withheld values; this one makes the gap visible
so a reader knows why a number or a comparison is missing.
"""

from __future__ import annotations

from reportgen.insights.context import InsightContext
from reportgen.insights.text import breakdown_noun, join_names, n_text, plural
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding

#: Segments named in one sentence; the rest are counted.
NAMED_SEGMENTS = 4


def sample_findings(ctx: InsightContext) -> list[Finding]:
    """Warnings for withheld metric values, withheld comparisons and withheld segments."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        minimum = ctx.min_n(metric.metric_id)
        if metric.suppressed is not None:
            sentence = (f"{metric.label} is not reported for {ctx.period.label}: "
                        f"{metric.suppressed}.")
            out.append(_warning(ctx, metric, "overall", sentence,
                                {"n": metric.n, "min_n": minimum, "reason": metric.suppressed}))
        else:
            out += _comparisons(ctx, metric, minimum)
        for breakdown, rows in metric.breakdowns.items():
            withheld = [r for r in rows if r.suppressed is not None]
            if not withheld:
                continue
            noun = breakdown_noun(breakdown)
            smallest = sorted(withheld, key=lambda r: (r.n, r.label))
            named = [f"{r.label} ({n_text(r.n)})" for r in smallest[:NAMED_SEGMENTS]]
            rest = len(withheld) - len(named)
            sentence = (f"{metric.label} is not shown for {plural(len(withheld), noun)} in "
                        f"{ctx.period.label}, {'each ' if len(withheld) > 1 else ''}on fewer "
                        f"than {minimum} observations: "
                        f"{join_names(named + ([f'{rest} more'] if rest else []))}.")
            out.append(_warning(ctx, metric, f"by {breakdown}", sentence, {
                "breakdown": breakdown, "min_n": minimum,
                "segments": [{"segment": r.label, "n": r.n} for r in smallest]},
                reach=min(1.0, sum(r.n for r in withheld) / metric.n) if metric.n else 0.0))
    return out


def _comparisons(ctx: InsightContext, metric: MetricResult, minimum: int) -> list[Finding]:
    """A comparison period too small to compare with (the current value is fine)."""
    out: list[Finding] = []
    for change in (metric.change, metric.year_over_year):
        if change is None or change.previous is not None or change.previous_n == 0:
            continue  # compared, or nothing at all then (not a sample-size problem)
        if change.previous_n >= minimum:
            continue
        sentence = (f"{metric.label} is not compared with {change.against}: "
                    f"{n_text(change.previous_n)} then, below the minimum of {minimum}.")
        out.append(_warning(ctx, metric, "overall", sentence, {
            "against": change.against, "previous_n": change.previous_n, "min_n": minimum}))
    return out


def _warning(ctx: InsightContext, metric: MetricResult, scope: str, sentence: str,
             numbers: dict[str, object], reach: float = 1.0) -> Finding:
    return ctx.finding("small_sample", metric, scope, sentence, numbers=numbers,
                       tone="warning", reach=reach)
