"""Counting the values a metric's calculator leaves out (off-scale ratings, negative durations).

A calculator declares each reason as a condition (``Calculator.exclusions``); here the
conditions become one more request of the metric's source, batched with the aggregates of
the metrics that share its filter, so the counts cost no scan of their own.  Whether the
metric itself is computed from aggregates or from rows, the counts come from the same
conditions over the same rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reportgen.data.aggregates import Aggregation, Request, Result, count_if
from reportgen.report.model.metric_results import LeftOut

if TYPE_CHECKING:
    from reportgen.metrics.base import Calculator, CalculatorParams, Exclusion
    from reportgen.plan.model import MetricPlan


#: appended to a metric's id to name its exclusion counts in an aggregate result
SUFFIX = "#left_out"


def _counter(exclusion: Exclusion) -> Any:
    return lambda cols: count_if(exclusion.condition(cols))


def exclusion_request(plan: MetricPlan[Calculator, CalculatorParams]) -> Request | None:
    """The metric's left-out counts per period, as an aggregate request (None: it declares
    no exclusion, or it reads rows up to a period rather than the period's own)."""
    exclusions = plan.calc.exclusions(plan.params) if plan.calc.scope == "period" else ()
    if not exclusions:
        return None
    return Request(plan.spec.id + SUFFIX,
                   Aggregation({e.reason: _counter(e) for e in exclusions}),
                   dict(plan.spec.filter), ((),))


def left_out(plan: MetricPlan[Calculator, CalculatorParams], result: Result, period: int | None) -> tuple[LeftOut, ...]:
    """The counts of period number ``period`` read from ``result`` (only reasons with some)."""
    if period is None or plan.calc.scope != "period":
        return ()
    values = result.get(plan.spec.id + SUFFIX, (), period)
    out = []
    for exclusion in plan.calc.exclusions(plan.params):
        count = int(values.get(exclusion.reason) or 0)
        if count:
            out.append(LeftOut(exclusion.reason, exclusion.noun, exclusion.qualifier, count))
    return tuple(out)
