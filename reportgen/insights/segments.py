"""Which segments changed, with the chance of any false claim about a metric held at alpha.

Scanning ten queues at alpha = 0.05 each would name a queue that did not really change in
about four reports out of ten.  Two rules prevent that:

* **Holm across segments.**  Every breakdown row of a metric that has a change test (all
  its breakdowns together: queues, channels, categories) is one family, adjusted with
  Holm's step-down method (``reportgen.stats.significance.holm``).
* **Fixed sequence behind the overall test.**  The family is tested only when the metric's
  overall change is significant.  The overall verdict is the engine's own test at full
  alpha (what the KPI tile shows), so any extra route to a segment claim while the overall
  change is not significant would push the chance of a false claim about the metric above
  alpha; behind the gate, the overall test and the segment family together keep it at
  alpha.  The price: a small segment that moved while the whole did not is not named.
  Metrics whose own estimate has no change test (counts) have no gate; for them the only
  segment test is the share of the total a cause takes, and that family stands alone.
* **Causes are their own family.**  "Which defect categories or contact reasons grew?" is
  a question every report asks whether or not the overall moved: a rate averaged over many
  categories hides one category doubling.  A metric's cause breakdowns therefore form a
  second Holm family at alpha, tested without the gate; the overall-plus-segments family
  keeps its guarantee, and each family's chance of a false claim is held at alpha.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reportgen.insights.context import InsightContext
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    breakdown_noun,
    difference_text,
    goodness,
    movement,
    p_text,
    plural,
    scope_text,
    tone_of,
    value_text,
)
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.sections import Finding
from reportgen.stats import significance as stats

#: Words in a breakdown column that make it a list of causes (defect or contact reasons).
CAUSE_WORDS: tuple[str, ...] = (
    "categor", "reason", "cause", "defect", "driver", "topic", "disposition", "issue",
)


@dataclass(frozen=True)
class SegmentTest:
    """One breakdown row's change with its raw and Holm-adjusted p-values.

    ``measure`` is ``value`` when the row's own metric value was tested, ``share`` when
    the row's share of a count was (causes of a volume).
    """

    breakdown: str
    row: BreakdownRow
    measure: Literal["value", "share"]
    value: float
    previous: float
    p_value: float
    p_adjusted: float
    significant: bool
    family_size: int
    test: str

    @property
    def delta(self) -> float:
        return self.value - self.previous


def is_count(metric: MetricResult) -> bool:
    """A count (volume): a numerator without a denominator."""
    return metric.numerator is not None and metric.denominator is None


def is_cause_breakdown(ctx: InsightContext, metric: MetricResult, breakdown: str) -> bool:
    """Whether a breakdown lists causes: a pareto chart of the metric names it, or it is a
    single column whose name says so (category, reason, cause, defect...).

    A cross breakdown (queue x category) is not a list of causes: its cells are segments.
    """
    for chart in ctx.definition.charts:
        if chart.type == "pareto" and metric.metric_id in chart.metric_ids:
            by = chart.params.get("by")
            wanted = ",".join(by) if isinstance(by, list) else by
            if wanted == breakdown or (wanted is None and "," not in breakdown):
                return True
    lowered = breakdown.lower()
    return "," not in lowered and any(word in lowered for word in CAUSE_WORDS)


def gate_open(metric: MetricResult) -> bool:
    """Whether the metric's segment family may be tested (see the module docstring)."""
    if metric.suppressed is not None:
        return False
    change = metric.change
    if change is not None and change.significant:
        return True
    return is_count(metric) and (change is None or change.test is None)


@dataclass(frozen=True)
class _Raw:
    """One row's test before adjustment."""

    measure: Literal["value", "share"]
    value: float
    previous: float
    p_value: float
    test: str


def segment_tests(ctx: InsightContext, metric: MetricResult) -> tuple[SegmentTest, ...]:
    """Every testable segment change of ``metric``, Holm-adjusted by family.

    Ordinary segments (queues, channels...) form one family behind the overall gate; cause
    breakdowns form a second family of their own (see the module docstring).
    """
    plain: list[tuple[str, BreakdownRow, _Raw]] = []
    causes: list[tuple[str, BreakdownRow, _Raw]] = []
    for breakdown, rows in metric.breakdowns.items():
        cause = is_cause_breakdown(ctx, metric, breakdown)
        for row in rows:
            found = _raw_test(metric, row, cause)
            if found is not None:
                (causes if cause else plain).append((breakdown, row, found))
    return (_family(ctx, metric, plain, gated=True)
            + _family(ctx, metric, causes, gated=False))


def _family(ctx: InsightContext, metric: MetricResult,
            raw: list[tuple[str, BreakdownRow, _Raw]], *, gated: bool) -> tuple[SegmentTest, ...]:
    """One Holm family's tests; a gated family claims nothing unless the overall moved."""
    if not raw:
        return ()
    p_values = np.array([item.p_value for _, _, item in raw])
    if not gated or gate_open(metric):
        adjusted = np.array(stats.holm(p_values.tolist()), dtype=float)
        reject = adjusted < ctx.alpha(metric.metric_id)
    else:  # behind a closed gate nothing is claimed, so nothing needs adjusting
        reject = np.zeros(len(raw), dtype=bool)
        adjusted = np.full(len(raw), np.nan)
    return tuple(
        SegmentTest(breakdown=breakdown, row=row, measure=item.measure, value=item.value,
                    previous=item.previous, p_value=item.p_value, p_adjusted=float(adj),
                    significant=bool(rej), family_size=len(raw), test=item.test)
        for (breakdown, row, item), adj, rej in zip(raw, adjusted, reject, strict=True))


def _raw_test(metric: MetricResult, row: BreakdownRow, cause: bool) -> _Raw | None:
    """The row's own test, or a share test for a cause of a count; None when neither applies."""
    change = row.change
    if row.suppressed is not None or change is None or change.previous is None:
        return None  # a withheld side supports no claim
    if change.p_value is not None and row.value is not None:
        return _Raw("value", row.value, change.previous, change.p_value, change.test or "")
    if cause and is_count(metric) and metric.change is not None:
        return _share_test(metric, row)
    return None


def _share_test(metric: MetricResult, row: BreakdownRow) -> _Raw | None:
    """Did the cause take a larger share of the count?  Two-proportion z-test on shares."""
    assert metric.change is not None and row.change is not None
    total_now, total_before = metric.numerator, metric.change.previous
    count_now, count_before = row.numerator, row.change.previous
    if not total_now or not total_before or count_now is None or count_before is None:
        return None
    if count_now > total_now or count_before > total_before:
        return None  # overlapping causes: a share of the total is not a proportion
    _, p = stats.two_proportion_ztest(count_now, total_now, count_before, total_before)
    if np.isnan(p):
        return None
    return _Raw("share", count_now / total_now, count_before / total_before, float(p),
                "two-proportion z-test on shares")


def significant(tests: Sequence[SegmentTest]) -> list[SegmentTest]:
    """The tests that support a claim."""
    return [t for t in tests if t.significant]


def segment_place(breakdown: str, key: Sequence[str]) -> str:
    """A segment inside a sentence: ``the Billing queue``, ``Billing / Email (queue / channel)``."""
    columns = breakdown.split(",")
    if len(columns) == 1 and len(key) == 1:
        return f"the {key[0]} {breakdown_noun(breakdown)}"
    return f"{' / '.join(key)} ({breakdown_noun(breakdown)})"


def claim_text(test: SegmentTest) -> str:
    """The p-value of a segment claim, with the size of the family it survived."""
    return (f"{p_text(test.p_adjusted)}, allowing for the "
            f"{plural(test.family_size, 'segment')} compared")


def segment_findings(ctx: InsightContext, metric: MetricResult,
                     tests: Sequence[SegmentTest], kind: str = "segment_change") -> list[Finding]:
    """A finding for every significant segment change of a metric's value."""
    out: list[Finding] = []
    for test in significant(tests):
        if test.measure != "value":
            continue
        verdict = goodness(test.delta, metric.direction)
        tone = tone_of(verdict)
        sentence = (
            f"{metric.label} in {segment_place(test.breakdown, test.row.key)} "
            f"{movement(test.delta)} "
            f"{difference_text(test.value, test.previous, metric.unit)} to "
            f"{value_text(test.value, metric.unit)} in {ctx.period.label}, from "
            f"{value_text(test.previous, metric.unit)} in {ctx.previous.label} "
            f"({claim_text(test)}).")
        out.append(ctx.finding(
            kind, metric, scope_text(test.breakdown, test.row.key), sentence,
            numbers=segment_numbers(test), direction=verdict, tone=tone,
            magnitude=magnitude(test.delta, metric.unit, test.previous),
            reach=explained_share(metric, test)))
    return out


def explained_share(metric: MetricResult, test: SegmentTest) -> float:
    """How much of the overall change this segment's own move accounts for (0-1).

    A segment that explains the headline move is the 'why' a reader needs first, so it is
    ranked by that share rather than by its share of volume alone; when the overall value
    did not move, the volume share is what is left.
    """
    share = min(1.0, test.row.n / metric.n) if metric.n else 0.0
    total = metric.change.delta if metric.change else None
    if not total or test.delta is None or (total > 0) != (test.delta > 0):
        return share
    return min(1.0, abs(share * test.delta / total))


def segment_numbers(test: SegmentTest) -> dict[str, object]:
    """The numbers behind a segment claim."""
    change = test.row.change
    return {
        "breakdown": test.breakdown, "segment": test.row.label, "measure": test.measure,
        "value": test.value, "previous": test.previous, "delta": test.delta,
        "n": test.row.n, "previous_n": change.previous_n if change else None,
        "p_value": test.p_value, "p_adjusted": test.p_adjusted,
        "family_size": test.family_size, "adjustment": "Holm", "test": test.test,
        "significant": test.significant,
    }
