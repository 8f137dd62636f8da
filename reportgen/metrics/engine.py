"""Give a calculator's estimates their statistical context.

For one metric: the value in every period of the history, the interval, the change against
the previous period (and the same period last year when the history reaches it) with its
test, the status against target, and the same for every breakdown row.  The estimates come
from aggregates or rows (``MetricData``); how each is judged (suppressed under the minimum
n, compared, against target) is ``verdicts``'.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from reportgen.data.aggregates import Result
from reportgen.data.rows import apply_filter
from reportgen.definition.content_specs import MetricSpec, SourceSpec, StatisticsSpec
from reportgen.metrics.base import Calculator, CalculatorParams, HistoryFrames, calculator
from reportgen.metrics.clustered_estimates import design_text
from reportgen.metrics.verdicts import (
    breakdown_rows,
    compare,
    holm_family,
    suppression,
    target_status,
)
from reportgen.period import Period
from reportgen.plan.model import MetricPlan, Settings
from reportgen.report.model.metric_results import (
    BreakdownRow,
    LeftOut,
    MetricResult,
    PeriodValue,
)

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.metrics.estimates import Estimate

PERIOD_COLUMN = "__period__"


#: a metric as ``plan.resolve`` resolves it
ResolvedMetric = MetricPlan[Calculator, CalculatorParams]


def plan_metric(spec: MetricSpec, params: CalculatorParams, defaults: StatisticsSpec,
                source: SourceSpec | None = None) -> ResolvedMetric:
    """The metric's plan from its validated ``params``; ``source`` (its source's spec)
    settles source-dependent defaults, such as clustering audits by a declared agent
    column."""
    calc = calculator(spec.calculator)
    if source is not None:
        params = calc.for_source(params, source.columns)
    return MetricPlan(spec, calc, params, Settings.for_metric(spec, defaults),
                      spec.direction or calc.direction_for(params))


class MetricData(Protocol):
    """Where a metric's estimates come from: aggregates or rows."""

    def estimate(self, period: Period) -> Estimate: ...
    def segments(self, columns: tuple[str, ...], period: Period) -> dict[tuple[str, ...], Estimate]: ...
    def details(self, period: Period, history: Sequence[Period]) -> Mapping[str, Any]: ...


def segment_key(values: Sequence[Any]) -> tuple[str, ...]:
    """A breakdown key as text; missing values read '(blank)'."""
    return tuple("(blank)" if v is None or (isinstance(v, float) and v != v) else _text(v)
                 for v in values)


def _text(value: Any) -> str:
    try:
        import pandas as pd

        if value is pd.NA:
            return "(blank)"
    except ImportError:  # pragma: no cover
        pass
    return str(value)


class AggregateData:
    """Estimates from aggregates computed where the data lives."""

    def __init__(self, plan: ResolvedMetric, result: Result, prefix: str,
                 index: Callable[[Period], int | None]):
        self.plan, self.result, self.prefix, self.index = plan, result, prefix, index

    def values(self, period: Period, columns: tuple[str, ...] = (),
               key: tuple[Any, ...] = ()) -> Mapping[str, Any]:
        i = self.index(period)
        return {} if i is None else self.result.get(self.prefix, columns, i, key)

    def estimate(self, period: Period) -> Estimate:
        return self.plan.calc.from_aggregates(self.values(period), self.plan.params)

    def segments(self, columns: tuple[str, ...], period: Period) -> dict[tuple[str, ...], Estimate]:
        i = self.index(period)
        if i is None:
            return {}
        out = {}
        for key in self.result.segments(columns, i):
            values = self.result.get(self.prefix, columns, i, key)
            out[segment_key(key)] = self.plan.calc.from_aggregates(values, self.plan.params)
        return out

    def details(self, period: Period, history: Sequence[Period]) -> Mapping[str, Any]:
        past = [(p, self.values(p)) for p in history]
        return self.plan.calc.details_from_aggregates(self.values(period), self.plan.params, past)


class FrameData:
    """Estimates from the rows themselves, for calculators that need them.

    ``split`` is a shared per-period split of ``frame`` (metrics of one source without a
    filter share it, so a large frame is split once).  When the calculator's estimate does
    not depend on the period's bounds, the periods' estimates (and a breakdown's over the
    history) come from one grouped pass over the rows, each equal to the estimate over that
    period's (or segment's) rows alone.
    """

    def __init__(self, plan: ResolvedMetric, frame: pd.DataFrame,
                 split: Callable[[Period], pd.DataFrame] | None = None):
        self.plan = plan
        self._by_period: dict[Any, Estimate] | None = None
        self._segments: dict[tuple[str, ...], dict[Any, dict[tuple[str, ...], Estimate]]] = {}
        rows = apply_filter(frame, plan.spec.filter) if plan.spec.filter else frame
        period_free = (plan.calc.scope == "period" and PERIOD_COLUMN in rows.columns
                       and type(plan.calc).estimate_for is Calculator.estimate_for)
        self.rows = rows if period_free else None
        if split is not None and not plan.spec.filter and plan.calc.scope == "period":
            self.rows_of = split
            return
        self.rows_of = _rows_by_period(rows, plan.calc.scope)

    def estimate(self, period: Period) -> Estimate:
        if self.rows is not None:
            if self._by_period is None:
                groups = self.rows.groupby(PERIOD_COLUMN, sort=True, observed=True)
                self._by_period = self.plan.calc.estimate_groups(groups, self.plan.params,
                                                                 period)
            found = self._by_period.get(period.key)
            if found is not None:
                return found
        return self.plan.calc.estimate_for(self.rows_of(period), self.plan.params, period)

    def segments(self, columns: tuple[str, ...], period: Period) -> dict[tuple[str, ...], Estimate]:
        if columns in self._segments:
            return self._segments[columns].get(period.key, {})
        frame = self.rows_of(period)
        if frame.empty:
            return {}
        keyed = frame.groupby(list(columns), sort=True, observed=True, dropna=False)
        return {segment_key(key if isinstance(key, tuple) else (key,)): estimate
                for key, estimate in self.plan.calc.estimate_groups(
                    keyed, self.plan.params, period).items()}

    def segments_over(self, columns: tuple[str, ...], periods: Sequence[Period]
                      ) -> list[dict[tuple[str, ...], Estimate]]:
        """``segments`` for each of ``periods``; kept for later ``segments`` calls."""
        if self.rows is None or not periods:
            return [self.segments(columns, p) for p in periods]
        if columns not in self._segments:
            keyed = self.rows.groupby([PERIOD_COLUMN, *columns], sort=True, observed=True,
                                      dropna=False)
            by_period: dict[Any, dict[tuple[str, ...], Estimate]] = {}
            for key, estimate in self.plan.calc.estimate_groups(keyed, self.plan.params,
                                                                periods[-1]).items():
                by_period.setdefault(key[0], {})[segment_key(key[1:])] = estimate
            self._segments[columns] = by_period
        return [self._segments[columns].get(p.key, {}) for p in periods]

    def details(self, period: Period, history: Sequence[Period]) -> Mapping[str, Any]:
        frames = HistoryFrames(periods=list(history),
                               frames={p.key: self.rows_of(p) for p in history}, current=period)
        return self.plan.calc.details(self.rows_of(period), self.plan.params, frames)


def evaluate(plan: ResolvedMetric, data: MetricData, period: Period,
             history: Sequence[Period], *, left_out: tuple[LeftOut, ...] = (),
             trend_by: Collection[tuple[str, ...]] = ()) -> MetricResult:
    """The metric for ``period`` with its history, change, target status and breakdowns;
    ``left_out``: the period's values its calculator left out (see metrics.exclusions);
    ``trend_by``: the breakdowns whose rows also get their history (a scorecard's)."""
    spec, calc, params, settings, direction = (plan.spec, plan.calc, plan.params, plan.settings,
                                               plan.direction)
    estimates: dict[str, Estimate] = {}

    def estimate(p: Period) -> Estimate:
        if p.key not in estimates:
            estimates[p.key] = data.estimate(p)
        return estimates[p.key]

    points: list[PeriodValue] = []
    for p in history:
        est = estimate(p)
        reason = suppression(est, settings, p.label)
        points.append(PeriodValue(
            period=p.key, label=p.short_label, start=p.start,
            value=None if reason else est.value, n=est.n,
            interval=None if reason else est.interval(settings.confidence),
            numerator=est.numerator, denominator=est.denominator, suppressed=reason))

    current = estimate(period)
    current_reason = suppression(current, settings, period.label)
    interval = None if current_reason else current.interval(settings.confidence)
    value = None if current_reason else current.value

    previous_period = period.previous()
    previous = estimate(previous_period)
    change = compare(current, previous, settings, previous_period.label, current_reason is None,
                     suppression(previous, settings, previous_period.label) is None)
    last_year = period.same_period_last_year()
    yoy = None
    if last_year.key in {p.key for p in history}:
        before = estimate(last_year)
        yoy = compare(current, before, settings, last_year.label, current_reason is None,
                      suppression(before, settings, last_year.label) is None)
        change, yoy = holm_family(change, yoy)

    histories = {cols: segments_over(data, cols, history)
                 for cols in plan.breakdowns if cols in trend_by}
    breakdowns = {
        ",".join(cols): breakdown_rows(spec, settings, direction, data.segments(cols, period),
                                       data.segments(cols, previous_period), previous_period)
        for cols in plan.breakdowns
    }
    for cols, by_period in histories.items():
        key = ",".join(cols)
        breakdowns[key] = segment_histories(breakdowns[key], by_period, history, settings)
    return MetricResult(
        metric_id=spec.id, label=spec.title, calculator=spec.calculator,
        unit=calc.unit_for(params), direction=direction, value=value, n=current.n,
        numerator=current.numerator, denominator=current.denominator, interval=interval,
        change=change, year_over_year=yoy, target=spec.target,
        status=target_status(value, spec.target, direction, interval, spec.at_risk_margin),
        suppressed=current_reason, breakdowns=breakdowns, history=tuple(points),
        formula=calc.describe(params) + ("" if current_reason else design_text(current)),
        details=dict(data.details(period, history)), left_out=left_out,
        scale=calc.scale_for(params), min_n=settings.min_n, grain=period.grain,
        n_noun=calc.n_noun,
    )


def segments_over(data: MetricData, columns: tuple[str, ...], periods: Sequence[Period]
                  ) -> list[dict[tuple[str, ...], Estimate]]:
    """Each period's estimates by ``columns`` (from one pass over the rows when it can)."""
    if isinstance(data, FrameData):
        return data.segments_over(columns, periods)
    return [data.segments(columns, p) for p in periods]


def segment_histories(rows: tuple[BreakdownRow, ...],
                      by_period: Sequence[Mapping[tuple[str, ...], Estimate]],
                      history: Sequence[Period],
                      settings: Settings) -> tuple[BreakdownRow, ...]:
    """``rows`` with each segment's value over ``history`` (``by_period``: the segments'
    estimates of each period), suppressed under the minimum n as the metric's own history
    is."""
    out = []
    for row in rows:
        values: list[float | None] = []
        for p, segments in zip(history, by_period, strict=True):
            est = segments.get(row.key)
            values.append(None if est is None or suppression(est, settings, p.label)
                          else est.value)
        out.append(replace(row, history=tuple(values)))
    return tuple(out)


def rows_by_period(rows: pd.DataFrame) -> Callable[[Period], pd.DataFrame]:
    """Each period's rows (for metrics that share one split)."""
    return _rows_by_period(rows, "period")



def _rows_by_period(rows: pd.DataFrame, scope: str) -> Callable[[Period], pd.DataFrame]:
    """How a calculator of ``scope`` sees one period's rows.

    'period': the rows assigned to the period.  'to_date': every loaded row assigned to the
    period or an earlier one (period keys of one grain sort in time order as text).
    """
    import pandas as pd

    empty = rows.iloc[0:0].copy()  # a copy: a view would keep every row alive
    if scope == "to_date":
        keys = rows[PERIOD_COLUMN].astype(str)
        return lambda p: rows.loc[keys <= p.key]
    column = rows[PERIOD_COLUMN] if PERIOD_COLUMN in rows.columns else None
    if column is not None and isinstance(column.dtype, pd.CategoricalDtype) \
            and column.cat.codes.is_monotonic_increasing:
        # rows arrive ordered by period: each period is a slice (a view, no copy)
        import numpy as np

        codes = column.cat.codes.to_numpy()
        sliced = {}
        for i, key in enumerate(column.cat.categories):
            start, end = np.searchsorted(codes, i, "left"), np.searchsorted(codes, i, "right")
            if end > start:
                sliced[key] = rows.iloc[start:end]
        return lambda p: sliced.get(p.key, empty)
    by_period = {key: part for key, part in rows.groupby(PERIOD_COLUMN, sort=False, observed=True)}
    return lambda p: by_period.get(p.key, empty)
