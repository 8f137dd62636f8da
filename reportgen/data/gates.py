"""Data-quality gates: is the data complete enough to report on?

A failing ``hold`` gate stops the run before anything is rendered or sent; a failing
``warn`` gate lets the report go out with the problem stated in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from reportgen import text
from reportgen.data.store import DataStore
from reportgen.definition.schedule_specs import GateSpec
from reportgen.period import Period
from reportgen.plan.model import AnyReportPlan
from reportgen.report.model.metric_results import MetricResult


@dataclass(frozen=True)
class GateResult:
    gate: GateSpec
    passed: bool
    observed: float | None
    message: str

    @property
    def holds(self) -> bool:
        return not self.passed and self.gate.action == "hold"


def check_gate(gate: GateSpec, store: DataStore, metrics: Mapping[str, MetricResult],
               period: Period) -> GateResult:
    """Evaluate one gate where the data lives (and, for sample_size, on the computed metrics)."""
    where = f"source '{gate.source}'"
    if gate.kind == "min_rows":
        assert gate.min is not None
        count = store.count(gate.source, period)
        ok = count >= gate.min
        return GateResult(gate, ok, count,
                          f"{where} has {text.count(count)} rows for {period.label}; at least {text.count(gate.min)} expected")
    if gate.kind == "sample_size":
        assert gate.min is not None and gate.metric is not None
        n = metrics[gate.metric].n if gate.metric in metrics else 0
        return GateResult(gate, n >= gate.min, n,
                          f"metric '{gate.metric}' has {text.n_text(n)} for {period.label}; at least {text.count(gate.min)} expected")
    if gate.kind == "freshness":
        assert gate.max_age_hours is not None
        newest = store.newest(gate.source)
        due = period.end_at - timedelta(hours=gate.max_age_hours)
        ok = newest is not None and newest >= due
        seen = "no rows at all" if newest is None else f"the newest row is from {text.timestamp(newest, period.timezone)}"
        return GateResult(gate, ok, None,
                          f"{where}: {seen}; data up to {text.timestamp(due, period.timezone)} ({text.plain(gate.max_age_hours)} h before the period end) expected")
    if gate.kind == "dropped_share" and gate.metric is not None:
        assert gate.max is not None
        return _left_out_share(gate, metrics.get(gate.metric), period,
                               store.count(gate.source, period))
    if gate.kind == "dropped_share":
        assert gate.max is not None
        counts = store.quality(gate.source)
        # every count of the note weighs: rows dropped, values read as blank, identical rows
        damaged, dropped = counts.damaged(period.key), counts.dropped(period.key)
        total = store.count(gate.source, period) + dropped
        share = damaged / total if total else 0.0
        why = "; ".join(counts.notes(period.key)).replace(f"Source '{gate.source}': ", "")
        what = "were dropped" if damaged == dropped else "were dropped or damaged"
        return GateResult(gate, share <= gate.max, share,
                          f"{where}: {text.percent(share, 1)} of the rows read for {period.label} {what} "
                          f"({why.rstrip('.') or 'none'}); at most {text.percent(gate.max, 1)} allowed")
    assert gate.column is not None and gate.max is not None
    if not store.count(gate.source, period):
        return GateResult(gate, False, None, f"{where} has no rows for {period.label} to check '{gate.column}'")
    if gate.kind == "null_rate":
        total, missing = store.null_count(gate.source, gate.column, period)
        share = missing / total if total else 0.0
        return GateResult(gate, share <= gate.max, share,
                          f"{where}: {text.percent(share, 1)} of '{gate.column}' is empty in {period.label}; at most {text.percent(gate.max, 1)} allowed")
    values, repeated = store.duplicate_count(gate.source, gate.column, period)
    share = repeated / values if values else 0.0
    return GateResult(gate, share <= gate.max, share,
                      f"{where}: {text.percent(share, 1)} of '{gate.column}' values are duplicates in {period.label}; at most {text.percent(gate.max, 1)} allowed")


def _left_out_share(gate: GateSpec, result: MetricResult | None, period: Period,
                    rows: int) -> GateResult:
    """The share of a metric's values its calculator left out (off the scale, negative, not
    a flag): left out / (used + left out).  A metric with n = 0 in a period whose source has
    ``rows`` rows left everything out: its share is 100%."""

    assert gate.max is not None
    items = result.left_out if result else ()
    left = sum(item.count for item in items)
    n = result.n if result else 0
    total = n + left
    share = left / total if total else 0.0
    why = "; ".join(f"{text.plural(item.count, item.noun)} {item.qualifier}" for item in items)
    if n == 0 and rows:
        share = 1.0
        why = "; ".join(filter(None, [why, f"n = 0, no value to count in the "
                                           f"{text.plural(rows, 'row')} of {period.label}"]))
    return GateResult(gate, share <= gate.max, share,
                      f"metric '{gate.metric}': {text.percent(share, 1)} of its values for {period.label} "
                      f"were left out ({why or 'none'}); at most {text.percent(gate.max, 1)} allowed")


def check_gates(plan: AnyReportPlan, store: DataStore,
                metrics: Mapping[str, MetricResult], period: Period) -> Sequence[GateResult]:
    """Every gate of the plan's definition, in its order."""
    return tuple(check_gate(g, store, metrics, period) for g in plan.definition.gates)
