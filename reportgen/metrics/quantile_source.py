"""Quantile metrics computed where the data lives (DuckDB and PostgreSQL sources).

A quantile calculator that declares its value (``Calculator.quantile``) is read in three
statements rather than from rows: its n, smallest and largest per period and group
(``summary_requests``, asked with the source's other aggregates); then, once n is known, in one sort of each group's values, the two
order statistics its quantile is interpolated between and the two of its interval
(discrete quantiles at fractions that select them); and the counts Mood's test needs for
the periods the report compares (``read_quantiles``).
``QuantileData`` turns them into ``QuantileSummary`` estimates, equal to the ``Quantile``
the rows would give.  Details that need the values themselves stay on the rows path: the
quantile calculators have none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from reportgen.data.aggregates import Request, Result
from reportgen.data.quantiles import (
    QUANTILE_DIALECTS,
    Group,
    MoodCounts,
    PooledAsk,
    QuantileMeasure,
    interpolated,
    order_request,
    pooled_counts,
    rank_fraction,
    read_pooled_counts,
    summary_request,
    value_ranks,
)
from reportgen.metrics.engine import ResolvedMetric, segment_key
from reportgen.metrics.quantile_and_net_score import QuantileSummary
from reportgen.period import Period

if TYPE_CHECKING:
    from reportgen.data.store import DataStore
    from reportgen.metrics.estimates import Estimate

#: the prefix of a metric's quantile summary in an aggregate result
SUFFIX = "#quantile"
#: and of its order statistics
ORDER = "#order"


def measure_of(metric: ResolvedMetric) -> QuantileMeasure | None:
    """The metric's quantile measure, when its quantile can be computed in SQL.

    Not for a metric with a target and a breakdown: each segment's status is judged on its
    interval at the family's Bonferroni level, known only once the segments are counted,
    and the order statistics are read at the metric's own level; such a metric reads rows.
    """
    if metric.aggregation is not None or metric.calc.scope != "period":
        return None
    if metric.spec.target is not None and metric.breakdowns:
        return None
    return metric.calc.quantile(metric.params)


def in_sql(store: Any, source: str, metrics: Sequence[ResolvedMetric]) -> list[ResolvedMetric]:
    """The metrics of ``source`` whose quantiles its database computes (none for a
    segment's view of a store, nor for SQLite: those read rows)."""
    from reportgen.data.store import DataStore

    wanted = [m for m in metrics if measure_of(m) is not None]
    if not wanted or not isinstance(store, DataStore) or store.dialect(source) not in QUANTILE_DIALECTS:
        return []
    return wanted


def _sets(metric: ResolvedMetric) -> tuple[tuple[str, ...], ...]:
    return ((), *metric.breakdowns)


def summary_requests(metrics: Sequence[ResolvedMetric]) -> list[Request]:
    """Each metric's n, smallest, largest and quantile per period and group."""
    out = []
    for m in metrics:
        measure = measure_of(m)
        assert measure is not None
        out.append(summary_request(m.spec.id + SUFFIX, measure, dict(m.spec.filter), _sets(m)))
    return out


@dataclass
class QuantileReads:
    """What was read of one quantile metric."""

    #: n, smallest, largest and the quantile per group (``summary_requests``' result)
    summaries: Result
    #: per group, the order statistics of its interval
    order: dict[Group, tuple[float, float]] = field(default_factory=dict)
    #: per group with values, its quantile (from the order statistics around it)
    values: dict[Group, float] = field(default_factory=dict)
    tests: dict[tuple[Group, Group], MoodCounts] = field(default_factory=dict)


def _groups(result: Result, prefix: str) -> dict[Group, Mapping[str, Any]]:
    out: dict[Group, Mapping[str, Any]] = {}
    for group in result.rows:
        values = result.get(prefix, *group)
        if values:
            out[group] = values
    return out


def read_quantiles(store: DataStore, source: str, metrics: Sequence[ResolvedMetric],
                   result: Result, period: Period,
                   histories: Mapping[str, Sequence[Period]]) -> dict[str, QuantileReads]:
    """Per metric, its summaries (``result``), its groups' order statistics and Mood's counts for the changes the
    report shows: against the previous period (overall and per breakdown) and against the
    same period last year when the metric's history (``histories``) reaches it."""
    from reportgen.stats.intervals import quantile_interval_ranks

    out: dict[str, QuantileReads] = {}
    #: per metric asking for order statistics: its request and the fractions listed in it
    orders: dict[str, tuple[Request, list[float]]] = {}
    #: per metric and group: the fractions of its interval's order statistics (None when
    #: it has no interval), of the two around its quantile, and the quantile's weight
    selected: dict[str, dict[Group, tuple[tuple[float, float] | None, float, float,
                                          float]]] = {}
    asks: dict[str, PooledAsk] = {}
    for m in metrics:  # what to ask, all metrics at once: one statement each
        measure = measure_of(m)
        assert measure is not None
        reads = out[m.spec.id] = QuantileReads(result)
        wanted = selected[m.spec.id] = {}
        sets = _sets(m)
        for group, values in _groups(result, m.spec.id + SUFFIX).items():
            n = int(values.get("n") or 0)
            if n == 0 or group[0] not in sets:  # another request's breakdown
                continue
            if values.get("min") == values.get("max"):  # all equal: the quantile is each
                reads.values[group] = float(values["min"])
                continue
            ranks = quantile_interval_ranks(n, measure.q, m.settings.confidence)
            interval = None if ranks is None else (rank_fraction(n, ranks[0] + 1),
                                                   rank_fraction(n, ranks[1] + 1))
            low_rank, high_rank, weight = value_ranks(n, measure.q)
            wanted[group] = (interval, rank_fraction(n, low_rank), rank_fraction(n, high_rank),
                             weight)
        if wanted:
            fractions = _fractions(wanted.values())
            orders[m.spec.id] = (order_request(m.spec.id + ORDER, measure, dict(m.spec.filter),
                                               sets, fractions), fractions)
        pairs = _pairs(store, m, period, histories[m.spec.id])
        if pairs:
            asks[m.spec.id] = PooledAsk(measure, dict(m.spec.filter), tuple(pairs))
    for metric, (request, fractions) in orders.items():
        # a statement per metric: a discrete quantile holds every value of its groups in
        # memory, outside the database's memory limit (two at once over 100M rows held
        # 2.4 GB)
        found = store.aggregate(source, [request])
        position = {f: i for i, f in enumerate(fractions)}
        for group, (interval, low, high, weight) in selected[metric].items():
            listed = found.get(request.prefix, *group).get("order")
            if listed is None:
                continue
            out[metric].values[group] = interpolated(float(listed[position[low]]),
                                                     float(listed[position[high]]), weight)
            if interval is not None:
                out[metric].order[group] = (float(listed[position[interval[0]]]),
                                            float(listed[position[interval[1]]]))
    if asks:
        _, rows = store.query(source, partial(pooled_counts, asks=list(asks.values())))
        for metric, tests in zip(asks, read_pooled_counts(rows, list(asks.values())), strict=True):
            out[metric].tests = tests
    return out


def _fractions(wanted: Iterable[tuple[tuple[float, float] | None, float, float, float]]
               ) -> list[float]:
    """Every fraction the groups ask for, once, in order: the order statement's list."""
    return sorted({f for interval, low, high, _ in wanted
                   for f in (*(interval or ()), low, high)})


def _pairs(store: DataStore, m: ResolvedMetric, period: Period,
           history: Sequence[Period]) -> list[tuple[tuple[str, ...], int, int]]:
    current = store.period_index(period)
    previous = store.period_index(period.previous())
    if current is None:
        return []
    out = [(group, current, previous) for group in _sets(m)] if previous is not None else []
    last_year = period.same_period_last_year()
    before = store.period_index(last_year)
    if before is not None and last_year.key in {p.key for p in history}:
        out.append(((), current, before))
    return out


class QuantileData:
    """Estimates of a quantile metric from what its database computed."""

    def __init__(self, plan: ResolvedMetric, reads: QuantileReads, index: Any):
        self.plan, self.result, self.reads, self.index = plan, reads.summaries, reads, index
        measure = measure_of(plan)
        assert measure is not None
        self.q = measure.q

    def _estimate(self, group: Group | None) -> QuantileSummary:
        values = {} if group is None else self.result.get(self.plan.spec.id + SUFFIX, *group)
        n = int(values.get("n") or 0)
        level = self.plan.settings.confidence
        bounds = None if group is None else self.reads.order.get(group)

        def number(name: str) -> float | None:
            value = values.get(name)
            return None if value is None else float(value)

        value = None if group is None else self.reads.values.get(group)
        return QuantileSummary(n, value, number("min"), number("max"), bounds,
                               level, group, self.reads.tests, q=self.q)

    def estimate(self, period: Period) -> Estimate:
        i = self.index(period)
        return self._estimate(None if i is None else ((), i, ()))

    def segments(self, columns: tuple[str, ...], period: Period) -> dict[tuple[str, ...], Estimate]:
        i = self.index(period)
        if i is None:
            return {}
        # the segments of this metric's own statement (its filter's), not of another's
        prefix = self.plan.spec.id + SUFFIX
        return {segment_key(key): self._estimate((columns, i, key))
                for key in self.result.segments(columns, i)
                if self.result.get(prefix, columns, i, key)}

    def details(self, period: Period, history: Sequence[Period]) -> Mapping[str, Any]:
        return {}
