"""Give a calculator's estimates their statistical context.

For one metric: the value in every period of the history, the interval, the change against
the previous period (and the same period last year when the history reaches it) with its
test, the status against target, and the same for every breakdown row.  Anything under
the minimum n is suppressed with the reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reportgen.definition.models import MetricSpec, StatisticsSpec
from reportgen.metrics.base import Calculator, CalculatorParams, HistoryFrames, calculator
from reportgen.metrics.estimates import Count, Estimate
from reportgen.model import (
    BreakdownRow,
    Change,
    Direction,
    Interval,
    MetricResult,
    PeriodValue,
    Status,
)
from reportgen.period import Period

PERIOD_COLUMN = "__period__"


@dataclass(frozen=True)
class Settings:
    min_n: int
    confidence: float
    alpha: float

    @classmethod
    def for_metric(cls, spec: MetricSpec, defaults: StatisticsSpec) -> Settings:
        return cls(
            min_n=spec.min_n if spec.min_n is not None else defaults.min_n,
            confidence=spec.confidence if spec.confidence is not None else defaults.confidence,
            alpha=spec.alpha if spec.alpha is not None else defaults.alpha,
        )


def apply_filter(frame: pd.DataFrame, conditions: Mapping[str, Any]) -> pd.DataFrame:
    """Rows whose columns equal the given values (a list means any of them)."""
    mask = pd.Series(True, index=frame.index)
    for column, wanted in conditions.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        mask &= frame[column].isin(values)
    return frame.loc[mask]


def suppression(estimate: Estimate, settings: Settings, where: str) -> str | None:
    """Why a value is withheld, or None.  Counts are exact, so the minimum n does not apply."""
    if estimate.n == 0:
        return f"no data for {where}"
    if estimate.value is None:  # e.g. a kappa where every rater used the same category
        return f"undefined for {where}: the statistic has no value on these data (n = {estimate.n})"
    if not isinstance(estimate, Count) and estimate.n < settings.min_n:
        return f"n = {estimate.n} is below the minimum of {settings.min_n}"
    return None


def target_status(value: float | None, target: float | None, direction: Direction,
                  interval: Interval | None, margin: float | None) -> Status | None:
    """On target, at risk or off target.

    Without an explicit margin, a miss whose confidence interval still reaches the target is
    'at risk' (the data cannot tell it from on target); a miss the interval excludes is 'off
    target'.
    """
    if value is None or target is None:
        return None
    sign = 1 if direction == "higher" else -1
    if sign * (value - target) >= 0:
        return "on_target"
    if margin is not None:
        return "at_risk" if abs(value - target) <= margin else "off_target"
    if interval is not None:
        reaches = interval.high >= target if direction == "higher" else interval.low <= target
        return "at_risk" if reaches else "off_target"
    return "off_target"


def _compare(current: Estimate, previous: Estimate, settings: Settings, against: str,
             current_ok: bool, previous_ok: bool) -> Change:
    if current_ok and previous_ok:
        change = current.compare(previous, settings.alpha)
    else:  # a suppressed side supports no claim about the change
        change = Change(previous=previous.value if previous_ok else None, previous_n=previous.n,
                        delta=None, test=None, statistic=None, p_value=None,
                        significant=False, alpha=settings.alpha)
    return Change(**{**change.__dict__, "against": against})


def compute_metric(spec: MetricSpec, frame: pd.DataFrame, period: Period, history: Sequence[Period],
                   defaults: StatisticsSpec) -> MetricResult:
    """The metric ``spec`` for ``period`` from ``frame`` (rows of the whole history window).

    ``frame`` must carry the ``__period__`` column (period key of each row).  A calculator
    with ``scope = "to_date"`` sees, for each period, every row up to and including it.
    """
    calc = calculator(spec.calculator)
    params: CalculatorParams = calc.Params.model_validate(spec.params)
    settings = Settings.for_metric(spec, defaults)
    direction: Direction = spec.direction or calc.direction_for(params)
    rows = apply_filter(frame, spec.filter) if spec.filter else frame
    rows_of = _rows_by_period(rows, calc.scope)

    def estimate(p: Period) -> Estimate:
        return estimates[p.key] if p.key in estimates else calc.estimate_for(rows_of(p), params, p)

    estimates: dict[str, Estimate] = {}
    points: list[PeriodValue] = []
    for p in history:
        est = estimates[p.key] = estimate(p)
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
    change = _compare(current, previous, settings, previous_period.label, current_reason is None,
                      suppression(previous, settings, previous_period.label) is None)
    last_year = period.same_period_last_year()
    yoy = None
    if last_year.key in estimates:
        before = estimates[last_year.key]
        yoy = _compare(current, before, settings, last_year.label, current_reason is None,
                       suppression(before, settings, last_year.label) is None)

    breakdowns = {
        ",".join(cols): _breakdown(calc, params, (period, rows_of(period)),
                                   (previous_period, rows_of(previous_period)), cols,
                                   settings, spec, direction)
        for cols in ([c] if isinstance(c, str) else list(c) for c in spec.by)
    }
    history_frames = HistoryFrames(periods=list(history),
                                   frames={p.key: rows_of(p) for p in history}, current=period)
    return MetricResult(
        metric_id=spec.id, label=spec.title, calculator=spec.calculator,
        unit=calc.unit_for(params), direction=direction, value=value, n=current.n,
        numerator=current.numerator, denominator=current.denominator, interval=interval,
        change=change, year_over_year=yoy, target=spec.target,
        status=target_status(value, spec.target, direction, interval, spec.at_risk_margin),
        suppressed=current_reason, breakdowns=breakdowns, history=tuple(points),
        formula=calc.describe(params),
        details=dict(calc.details(rows_of(period), params, history_frames)),
    )


def _rows_by_period(rows: pd.DataFrame, scope: str) -> Callable[[Period], pd.DataFrame]:
    """How a calculator of ``scope`` sees one period's rows.

    'period': the rows assigned to the period.  'to_date': every loaded row assigned to the
    period or an earlier one (period keys of one grain sort in time order as text).
    """
    empty = rows.iloc[0:0]
    if scope == "to_date":
        keys = rows[PERIOD_COLUMN].astype(str)
        return lambda p: rows.loc[keys <= p.key]
    by_period = {key: part for key, part in rows.groupby(PERIOD_COLUMN, sort=False, observed=True)}
    return lambda p: by_period.get(p.key, empty)


def _breakdown(calc: Calculator, params: CalculatorParams,
               current: tuple[Period, pd.DataFrame], previous: tuple[Period, pd.DataFrame],
               columns: list[str], settings: Settings, spec: MetricSpec,
               direction: Direction) -> tuple[BreakdownRow, ...]:
    """One row per segment of ``columns`` in the current period, each with its own change.

    A segment absent from the previous period has no change rather than a change from zero.
    """
    def groups(frame: pd.DataFrame) -> dict[tuple[str, ...], pd.DataFrame]:
        if frame.empty:
            return {}
        keyed = frame.groupby(columns, sort=True, observed=True, dropna=False)
        return {tuple("(blank)" if pd.isna(k) else str(k)
                      for k in (key if isinstance(key, tuple) else (key,))): part
                for key, part in keyed}

    (period, now_frame), (previous_period, before_frame) = current, previous
    now_groups, before_groups = groups(now_frame), groups(before_frame)
    rows: list[BreakdownRow] = []
    for key in sorted(now_groups):
        est = calc.estimate_for(now_groups[key], params, period)
        reason = suppression(est, settings, " / ".join(key))
        change = None
        if key in before_groups:
            before = calc.estimate_for(before_groups[key], params, previous_period)
            before_ok = suppression(before, settings, previous_period.label) is None
            change = _compare(est, before, settings, previous_period.label, reason is None,
                              before_ok)
        interval = None if reason else est.interval(settings.confidence)
        value = None if reason else est.value
        rows.append(BreakdownRow(
            key=key, value=value, n=est.n, numerator=est.numerator, denominator=est.denominator,
            interval=interval, change=change,
            status=target_status(value, spec.target, direction, interval, spec.at_risk_margin),
            suppressed=reason))
    return tuple(rows)
