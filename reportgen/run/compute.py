"""The report's metrics, computed where the data lives.

``open_store`` opens the report's sources for its history window (or the longer one a
metric asks for); ``compute_metrics``
evaluates every metric of the plan from one aggregate statement per source (and filter) and
one rows query per source for the metrics that need rows, reading sources on threads while
the metrics are computed in the plan's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import closing
from typing import Any

from reportgen.data import DataStore, Window
from reportgen.data.aggregates import Request, Result
from reportgen.metrics.engine import (
    AggregateData,
    FrameData,
    MetricData,
    MetricPlan,
    evaluate,
    rows_by_period,
)
from reportgen.metrics.exclusions import exclusion_request, left_out
from reportgen.metrics.quantile_source import (
    QuantileData,
    QuantileReads,
    in_sql,
    read_quantiles,
    summary_requests,
)
from reportgen.period import Period
from reportgen.plan import ReportPlan
from reportgen.report.model.metric_results import MetricResult
from reportgen.run.fanout import SegmentStore


def history_of(plan: ReportPlan, period: Period) -> list[Period]:
    """The periods the report's history covers, ``period`` last."""
    return period.trailing(plan.definition.period.history)


def window_of(plan: ReportPlan, period: Period) -> list[Period]:
    """The periods the report's sources are read over, ``period`` last: the report's history,
    or a metric's own when it reaches further back (``metrics[].history``)."""
    definition = plan.definition
    longest = max([definition.period.history, *(m.spec.history or 0 for m in plan.metrics)])
    return period.trailing(longest)


def metric_history(metric: MetricPlan, periods: Sequence[Period],
                   report_history: int) -> Sequence[Period]:
    """The last of the store's ``periods`` the metric reads: its own history, or the report's."""
    return periods[-(metric.spec.history or report_history):]


def open_store(plan: ReportPlan, period: Period,
               extra: Mapping[str, Sequence[str]] | None = None) -> DataStore:
    """The report's sources for the history window ending with ``period`` (opened lazily);
    ``extra`` names more columns to read per source (a fan-out's segment columns)."""
    history = window_of(plan, period)
    window = Window(history[0].start_at, period.end_at)
    extra = extra or {}
    facts: dict[str, list[str]] = {}
    for gate in plan.definition.gates:
        if gate.column:
            facts.setdefault(gate.source, []).append(gate.column)
    return DataStore(plan.definition.sources,
                     {name: list(dict.fromkeys([*source.columns, *extra.get(name, ())]))
                      for name, source in plan.sources.items()},
                     plan.loaded.base_dir, window, history, facts)


def _evaluate_source(metrics: Sequence[MetricPlan], result: Any, frame: Any,
                     quantiles: Mapping[str, QuantileReads], store: DataStore | SegmentStore,
                     period: Period, results: dict[str, MetricResult],
                     report_history: int,
                     trends: Mapping[str, tuple[tuple[str, ...], ...]]) -> None:
    """One source's metrics from its aggregates, quantiles read in SQL and rows (then let
    go), each over its own history; ``trends``: per metric, the breakdowns whose segments
    also get their history (a scorecard's sparklines)."""
    data: dict[str, MetricData] = {}
    for m in metrics:
        if m.aggregation is not None:
            data[m.spec.id] = AggregateData(m, result, m.spec.id, store.period_index)
        elif m.spec.id in quantiles:
            data[m.spec.id] = QuantileData(m, quantiles[m.spec.id], store.period_index)
    if frame is not None:
        split = rows_by_period(frame)
        for m in metrics:
            if m.spec.id not in data:
                data[m.spec.id] = FrameData(m, frame, split)
        del split
    del frame
    index = store.period_index(period)
    for m in metrics:
        results[m.spec.id] = evaluate(m, data.pop(m.spec.id), period,
                                      metric_history(m, store.periods, report_history),
                                      left_out=left_out(m, result, index),
                                      trend_by=trends.get(m.spec.id, ()))


def aggregate_requests(plan: ReportPlan) -> dict[str, list[Request]]:
    """Per source, the aggregates its metrics ask for (each metric overall and by each of
    its breakdowns, and the counts of the values each leaves out)."""
    requests: dict[str, list[Request]] = {}
    for m in plan.metrics:
        if m.aggregation is not None:
            requests.setdefault(m.spec.source, []).append(
                Request(m.spec.id, m.aggregation, dict(m.spec.filter), ((), *m.breakdowns)))
    for m in plan.metrics:  # the values each calculator leaves out, in the same statements
        request = exclusion_request(m)
        if request is not None:
            requests.setdefault(m.spec.source, []).append(request)
    return requests


def compute_metrics(plan: ReportPlan, store: DataStore | SegmentStore,
                    period: Period, *, readers: int | None = None) -> dict[str, MetricResult]:
    """Every metric of the plan: aggregating metrics in one statement per source (and filter),
    the rest from one rows query per source; a source's rows are let go once its metrics
    are computed.

    Sources are read on ``readers`` threads (default: the cores this process may use), two
    at a time on two cores, while their metrics are computed here in the plan's order.  A
    report's own store also counts each source's rows per period (for the gates and the
    row counts) while it has the source open.
    """
    from reportgen.data.resources import tracked_connections
    from reportgen.data.threads import ordered_map
    from reportgen.errors import ResourceError
    from reportgen.render.pool import default_jobs

    results: dict[str, MetricResult] = {}
    by_source: dict[str, list[MetricPlan]] = {}
    for metric in plan.metrics:
        by_source.setdefault(metric.spec.source, []).append(metric)
    whole = isinstance(store, DataStore)
    if whole:  # sources no metric reads are still opened and counted for the model
        for name in plan.definition.sources:
            by_source.setdefault(name, [])

    requests = aggregate_requests(plan)
    report_history = plan.definition.period.history
    scorecard = plan.definition.scorecard
    trends = {} if scorecard is None else {m: ((scorecard.by,),) for m in scorecard.metrics}

    def read(item: tuple[str, list[MetricPlan]]) -> tuple[Any, Any, dict[str, QuantileReads]]:
        source, metrics = item
        result = frame = None
        # quantiles the database computes (metrics.quantile_source): their n, smallest and
        # largest with the other aggregates, then their order statistics
        quantiles = in_sql(store, source, metrics)
        asked = [*requests.get(source, ()), *summary_requests(quantiles)]
        if asked:
            result = store.aggregate(source, asked)
        reads = {}
        if quantiles:
            assert isinstance(store, DataStore) and result is not None
            histories = {m.spec.id: metric_history(m, store.periods, report_history)
                         for m in quantiles}
            reads = read_quantiles(store, source, quantiles, result, period, histories)
        with_rows = [m for m in metrics if m.aggregation is None and m.spec.id not in reads]
        if with_rows:  # one query serves every metric of the source that needs rows
            frame = store.rows(source, [c for m in with_rows for c in m.columns()])
        if whole:
            store.facts(source)  # type: ignore[union-attr]
        return result, frame, reads

    items = list(by_source.items())
    # running out of memory on one source stops the others at once (they would likely
    # run out too, and the run cannot complete without it)
    with tracked_connections() as live, \
            closing(ordered_map(read, items, readers or default_jobs(), urgent=ResourceError,
                                stop=live.interrupt)) as reads:
        for (_, metrics), (result, frame, quantiles) in zip(items, reads, strict=True):
            _evaluate_source(metrics, result or Result({}), frame, quantiles, store, period,
                             results, report_history, trends)
    from reportgen.data.privacy import mask_results
    from reportgen.text.truncate import shorten_segments

    # one place every output reads from: small segments over personal data are counted only,
    # and segment names too long for a table cell or a sentence are cut (with a footnote)
    return shorten_segments(mask_results(plan, {m.spec.id: results[m.spec.id]
                                                for m in plan.metrics}))
