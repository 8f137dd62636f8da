"""Assemble the ReportModel from computed metrics, figures and findings.

The last pure stage: it decides every string a reader sees (KPI tiles, tables, the
methodology), so both renderers only place what is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from reportgen.definition import LoadedDefinition
from reportgen.definition.models import Definition, TableSpec
from reportgen.gates import GateResult
from reportgen.model import (
    STATUS_LABELS,
    BreakdownRow,
    Cell,
    Column,
    Figure,
    Finding,
    MethodNote,
    MetricResult,
    PeriodInfo,
    Provenance,
    ReportModel,
    Section,
    Table,
    Theme,
)
from reportgen.period import Period
from reportgen.render.format import (
    change_tone,
    format_delta,
    format_p,
    format_value,
    make_kpi,
)

_LISTED_SUPPRESSIONS = 6
_TONE_OF_STATUS = {"on_target": "good", "at_risk": "warning", "off_target": "bad"}


def theme_of(definition: Definition) -> Theme:
    spec = definition.theme
    base = Theme()
    return Theme(primary=spec.primary, accent=spec.accent,
                 palette=tuple(spec.palette) if spec.palette else base.palette,
                 font_family=spec.font_family)


def period_info(period: Period) -> PeriodInfo:
    return PeriodInfo(key=period.key, label=period.label, grain=period.grain, start=period.start,
                      end=period.end, timezone=period.timezone, date_range=period.date_range_label,
                      previous_label=period.previous().label)


def _sorted_rows(rows: Sequence[BreakdownRow], table: TableSpec, direction: str) -> list[BreakdownRow]:
    def value_key(row: BreakdownRow) -> tuple[int, float]:
        if row.value is None:
            return (1, 0.0)
        return (0, -row.value if direction == "higher" else row.value)

    if table.sort == "name":
        ordered = sorted(rows, key=lambda r: r.key)
    elif table.sort == "n":
        ordered = sorted(rows, key=lambda r: -r.n)
    elif table.sort == "change":
        ordered = sorted(rows, key=lambda r: (r.change is None or r.change.delta is None,
                                              -abs(r.change.delta) if r.change and r.change.delta else 0))
    else:
        ordered = sorted(rows, key=value_key)
    return ordered[: table.top] if table.top else ordered


def breakdown_table(result: MetricResult, table: TableSpec, index: int) -> Table:
    """A metric's breakdown as a table: segment, value, interval, change, n, status."""
    key_columns = table.by_key.split(",")
    columns = [Column(f"key{i}", name.replace("_", " ").capitalize()) for i, name in enumerate(key_columns)]
    columns += [Column("value", result.label, "right"), Column("interval", "95% CI", "right"),
                Column("change", "Change", "right"), Column("n", "n", "right")]
    if result.target is not None:
        columns.append(Column("status", "Status", "left"))
    rows = []
    suppressed = 0
    for row in _sorted_rows(result.breakdowns.get(table.by_key, ()), table, result.direction):
        cells = [Cell(part) for part in row.key]
        if row.suppressed:
            suppressed += 1
            cells += [Cell("—"), Cell(""), Cell(""), Cell(f"{row.n:,}", row.n)]
        else:
            interval = (f"{format_value(row.interval.low, result.unit)}–"
                        f"{format_value(row.interval.high, result.unit)}") if row.interval else ""
            change = row.change
            delta = change.delta if change else None
            change_text = format_delta(delta, result.unit, change.previous if change else None)
            if change and change.significant:
                change_text += " *"
            cells += [Cell(format_value(row.value, result.unit), row.value), Cell(interval),
                      Cell(change_text, delta, change_tone(change, result.direction)),
                      Cell(f"{row.n:,}", row.n)]
        if result.target is not None:
            status = row.status or ""
            cells.append(Cell(STATUS_LABELS.get(status, "—" if row.suppressed else ""),
                              tone=_TONE_OF_STATUS.get(status)))  # type: ignore[arg-type]
        rows.append(tuple(cells))
    notes = ["* significant change vs the previous period"
             f" (α = {result.change.alpha:g})" if result.change else "* significant change"]
    if suppressed:
        notes.append(f"{suppressed} segment(s) below the minimum n are not shown as values")
    return Table(id=f"{result.metric_id}_{table.by_key.replace(',', '_')}_{index}",
                 title=table.title or f"{result.label} by {' and '.join(k.replace('_', ' ') for k in key_columns)}",
                 columns=tuple(columns), rows=tuple(rows), note="; ".join(notes) + ".")


def method_note(result: MetricResult) -> MethodNote:
    if result.interval:
        interval = f"{result.interval.method} {result.interval.level * 100:.0f}% interval"
    elif result.unit == "count":
        interval = "exact count (no interval)"
    elif result.value is None:
        interval = "no interval (no value in the period)"
    else:
        interval = "no confidence interval is computed for this statistic"
    change = result.change
    test = interval
    if change and change.test:
        test += f"; {change.test} vs {change.against} at α = {change.alpha:g}"
        if change.p_value is not None:
            test += f" ({format_p(change.p_value)})"
    suppressed = [f"{p.label}: {p.suppressed}" for p in result.history if p.suppressed]
    for name, rows in result.breakdowns.items():
        hidden = [r for r in rows if r.suppressed]
        if len(hidden) > _LISTED_SUPPRESSIONS:  # a long list helps nobody: say how many and why
            largest = max(r.n for r in hidden)
            suppressed.append(f"{name}: {len(hidden)} of {len(rows)} segments not shown, each "
                              f"with too few observations (largest n = {largest:,})")
        else:
            suppressed += [f"{name} = {r.label}: {r.suppressed}" for r in hidden]
    return MethodNote(metric_id=result.metric_id, label=result.label, formula=result.formula,
                      test=test, n_text=f"n = {result.n:,} in the period",
                      suppressed=tuple(suppressed))


def _warnings(metrics: Mapping[str, MetricResult], gates: Sequence[GateResult],
              period: Period) -> tuple[str, ...]:
    notes = [f"Data check: {g.message}." for g in gates if not g.passed]
    notes += [f"{m.label}: {m.suppressed}; no value is reported for {period.label}."
              for m in metrics.values() if m.suppressed]
    return tuple(notes)


#: The executive summary names at most this many findings about one metric, so a single
#: metric's change, streak and year-over-year move do not crowd out everything else.
_SUMMARY_PER_METRIC = 2


def summary_findings(ranked: Sequence[Finding], count: int) -> tuple[Finding, ...]:
    """The ``count`` most severe findings, at most two per metric."""
    chosen: list[Finding] = []
    per_metric: dict[str, int] = {}
    for finding in ranked:
        if len(chosen) == count:
            break
        if per_metric.get(finding.metric_id, 0) < _SUMMARY_PER_METRIC:
            chosen.append(finding)
            per_metric[finding.metric_id] = per_metric.get(finding.metric_id, 0) + 1
    return tuple(chosen)


def assemble_model(loaded: LoadedDefinition, period: Period, *, now: datetime,
                   metrics: Mapping[str, MetricResult], figures: Mapping[str, Figure],
                   findings: Sequence[Finding], gates: Sequence[GateResult],
                   input_hashes: Mapping[str, str], row_counts: Mapping[str, int],
                   code_version: str) -> ReportModel:
    definition = loaded.definition
    kpis = {metric_id: make_kpi(result) for metric_id, result in metrics.items()}
    ranked = sorted(findings, key=lambda f: -f.severity)
    sections = []
    for spec in definition.sections:
        shown = set(spec.kpis) | {m for c in spec.charts for m in definition.chart(c).metric_ids} \
            | {t.metric for t in spec.tables}
        sections.append(Section(
            id=spec.id, title=spec.title, intro=spec.intro,
            kpis=tuple(kpis[m] for m in spec.kpis),
            figures=tuple(figures[c] for c in spec.charts if c in figures),
            tables=tuple(breakdown_table(metrics[t.metric], t, i) for i, t in enumerate(spec.tables)),
            findings=tuple(f for f in ranked if f.metric_id in shown),
            notes=tuple(spec.notes)))
    summary_ids = definition.summary or list(dict.fromkeys(
        s.kpis[0] for s in definition.sections if s.kpis))
    return ReportModel(
        report_id=definition.id, title=definition.title, organisation=definition.organisation,
        period=period_info(period), generated_at=now,
        summary_kpis=tuple(kpis[m] for m in summary_ids),
        findings=summary_findings(ranked, definition.insights.summary_findings),
        sections=tuple(sections),
        methodology=tuple(method_note(metrics[m.id]) for m in definition.metrics),
        provenance=Provenance(definition_hash=loaded.hash, input_hashes=dict(input_hashes),
                              row_counts=dict(row_counts), code_version=code_version,
                              period=period.key, generated_at=now),
        theme=theme_of(definition), subtitle=definition.description,
        owner=definition.owner or "", warnings=_warnings(metrics, gates, period),
        metrics=dict(metrics))
