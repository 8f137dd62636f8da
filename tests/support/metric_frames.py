"""A metric computed from an in-memory frame, as tests compute it: the metric's plan built
from its spec (its params validated here, as no definition was checked), its aggregates run
over the frame in DuckDB exactly as over a source, then judged by the engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reportgen.data.aggregates import Request, Result
from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.metrics.base import calculator
from reportgen.metrics.engine import (
    AggregateData,
    FrameData,
    MetricData,
    ResolvedMetric,
    evaluate,
    plan_metric,
)
from reportgen.period import Period
from reportgen.report.model.metric_results import LeftOut, MetricResult

if TYPE_CHECKING:
    import pandas as pd


def compute_metric(spec: MetricSpec, frame: pd.DataFrame, period: Period, history: Sequence[Period],
                   defaults: StatisticsSpec) -> MetricResult:
    """The metric ``spec`` for ``period`` from ``frame`` (rows of the whole history window).

    ``frame`` must carry the ``__period__`` column (period key of each row).  Aggregating
    calculators run their aggregates over the frame in DuckDB, exactly as over a source.
    ``spec`` comes without a checked definition, so its params are validated here.
    """
    params = calculator(spec.calculator).Params.model_validate(spec.params)
    plan = plan_metric(spec, params, defaults)
    data, left_out = frame_data(plan, frame, history, period)
    return evaluate(plan, data, period, history, left_out=left_out)


def frame_data(plan: ResolvedMetric, frame: pd.DataFrame, history: Sequence[Period],
               period: Period | None = None) -> tuple[MetricData, tuple[LeftOut, ...]]:
    """A metric's data from an in-memory frame tagged with period keys, and the values its
    calculator left out in ``period`` (counted in the same statement as its aggregates)."""
    from reportgen.data.frames import aggregate_periods
    from reportgen.metrics.exclusions import exclusion_request, left_out

    aggregation = plan.aggregation
    periods = list(history)
    keys = {p.key: i for i, p in enumerate(periods)}
    requests = [] if aggregation is None else [
        Request("m", aggregation, dict(plan.spec.filter), ((), *plan.breakdowns))]
    excluded = exclusion_request(plan)
    requests += [excluded] if excluded is not None else []
    result = aggregate_periods(frame, periods, requests) if requests else Result({})
    counts = left_out(plan, result, None if period is None else keys.get(period.key))
    if aggregation is None:
        return FrameData(plan, frame), counts

    def index(p: Period) -> int | None:
        return keys.get(p.key)

    return AggregateData(plan, result, "m", index), counts
