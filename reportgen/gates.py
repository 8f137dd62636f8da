"""Data-quality gates: is the data complete enough to report on?

A failing ``hold`` gate stops the run before anything is rendered or sent; a failing
``warn`` gate lets the report go out with the problem stated in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from reportgen.definition.models import Definition, GateSpec
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.model import MetricResult
from reportgen.period import Period


@dataclass(frozen=True)
class GateResult:
    gate: GateSpec
    passed: bool
    observed: float | None
    message: str

    @property
    def holds(self) -> bool:
        return not self.passed and self.gate.action == "hold"


def _current(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    return frame.loc[frame[PERIOD_COLUMN] == period.key]


def check_gate(gate: GateSpec, frames: Mapping[str, pd.DataFrame], time_columns: Mapping[str, str],
               metrics: Mapping[str, MetricResult], period: Period) -> GateResult:
    """Evaluate one gate against the loaded data (and, for sample_size, the computed metrics)."""
    frame = frames[gate.source]
    rows = _current(frame, period)
    where = f"source '{gate.source}'"
    if gate.kind == "min_rows":
        assert gate.min is not None
        count = len(rows)
        ok = count >= gate.min
        return GateResult(gate, ok, count,
                          f"{where} has {count:,} rows for {period.label}; at least {gate.min:,.0f} expected")
    if gate.kind == "sample_size":
        assert gate.min is not None and gate.metric is not None
        n = metrics[gate.metric].n if gate.metric in metrics else 0
        return GateResult(gate, n >= gate.min, n,
                          f"metric '{gate.metric}' has n = {n:,} for {period.label}; at least {gate.min:,.0f} expected")
    if gate.kind == "freshness":
        assert gate.max_age_hours is not None
        times = frame[time_columns[gate.source]]
        newest = times.max() if len(times) else None
        due = period.end_at - timedelta(hours=gate.max_age_hours)
        ok = newest is not None and not pd.isna(newest) and newest >= due
        seen = "no rows at all" if newest is None or pd.isna(newest) else f"the newest row is from {newest:%Y-%m-%d %H:%M}"
        return GateResult(gate, ok, None,
                          f"{where}: {seen}; data up to {due:%Y-%m-%d %H:%M} ({gate.max_age_hours:g} h before the period end) expected")
    assert gate.column is not None and gate.max is not None
    if rows.empty:
        return GateResult(gate, False, None, f"{where} has no rows for {period.label} to check '{gate.column}'")
    column = rows[gate.column]
    if gate.kind == "null_rate":
        share = float(column.isna().mean())
        return GateResult(gate, share <= gate.max, share,
                          f"{where}: {share:.1%} of '{gate.column}' is empty in {period.label}; at most {gate.max:.1%} allowed")
    share = float(column.dropna().duplicated().mean()) if column.notna().any() else 0.0
    return GateResult(gate, share <= gate.max, share,
                      f"{where}: {share:.1%} of '{gate.column}' values are duplicates in {period.label}; at most {gate.max:.1%} allowed")


def check_gates(definition: Definition, frames: Mapping[str, pd.DataFrame],
                metrics: Mapping[str, MetricResult], period: Period) -> Sequence[GateResult]:
    time_columns = {name: spec.time_column for name, spec in definition.sources.items()}
    return tuple(check_gate(g, frames, time_columns, metrics, period) for g in definition.gates)
