"""Assemble the ReportModel from computed metrics, figures and findings.

The last pure stage: it decides every string a reader sees (KPI tiles, tables, the
methodology), so both renderers only place what is here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from reportgen import text
from reportgen.data.quality import QualityCounts
from reportgen.definition import LoadedDefinition
from reportgen.definition.models import Definition, TableSpec
from reportgen.gates import GateResult
from reportgen.model import (
    BreakdownRow,
    Cell,
    Change,
    Column,
    Figure,
    Finding,
    Kpi,
    MethodNote,
    MetricResult,
    PeriodInfo,
    Provenance,
    ReportModel,
    Section,
    Table,
    Theme,
    Tone,
)
from reportgen.period import Period

_LISTED_SUPPRESSIONS = 6


def theme_of(definition: Definition) -> Theme:
    spec = definition.theme
    base = Theme()
    return Theme(primary=spec.primary, accent=spec.accent,
                 palette=tuple(spec.palette) if spec.palette else base.palette,
                 font_family=spec.font_family)


def period_info(period: Period) -> PeriodInfo:
    """The period's labels in the current locale (``September 2026``, ``September 2026``)."""
    previous = period.previous()
    return PeriodInfo(key=period.key, label=text.period_label(period.grain, period.start),
                      grain=period.grain, start=period.start, end=period.end,
                      timezone=period.timezone, date_range=text.date_range(period.start, period.end),
                      previous_label=text.period_label(previous.grain, previous.start))


def change_tone(change: Change | None, direction: str) -> Tone:
    """Good or bad only for a significant move; anything else is neutral."""
    if change is None or change.delta is None or not change.significant or change.delta == 0:
        return "neutral"
    improved = (change.delta > 0) == (direction == "higher")
    return "good" if improved else "bad"


def significance_text(change: Change | None) -> str:
    """``significant (p = 0.024)``, ``not significant (p = 0.49)``, ``not tested``."""
    if change is None or change.delta is None:
        return "no comparison"
    if change.test is None:
        return "not tested"
    verdict = "significant" if change.significant else "not significant"
    return f"{verdict} ({text.p_value(change.p_value, change.alpha)})"


def make_kpi(result: MetricResult, theme: Theme = text.status.DEFAULT_THEME) -> Kpi:
    """The tile/scorecard view of a metric: every string and colour a reader sees for it."""
    change = result.change
    delta = change.delta if change else None
    arrow = "" if delta is None else "up" if delta > 0 else "down" if delta < 0 else "flat"
    if result.suppressed:
        value_text = text.MISSING
        n_text = result.suppressed
    else:
        value_text = text.value(result.value, result.unit)
        n_text = text.n_text(result.n)
    target = f"Target {text.value(result.target, result.unit)}" if result.target is not None else ""
    if delta is not None and change:
        delta_text = f"{text.change(delta, result.unit, change.previous)} vs {change.against}"
    else:
        delta_text = "no comparison"
    tone = change_tone(change, result.direction)
    return Kpi(
        metric=result,
        value_text=value_text,
        delta_text=delta_text,
        interval_text=text.interval_text(result.interval, result.unit),
        n_text=n_text,
        target_text=target,
        status_text=text.status_label(result.status),
        delta_tone=tone,
        arrow=arrow,  # type: ignore[arg-type]
        significance_text=significance_text(change),
        status_tone=text.status_tone(result.status),
        status_colour=text.status_colour(result.status, theme) if result.status else "",
        delta_colour=text.tone_colour(tone, theme),
    )


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
    columns = [Column(f"key{i}", text.humanise(name).capitalize()) for i, name in enumerate(key_columns)]
    level = result.interval.level if result.interval else 0.95
    columns += [Column("value", result.label, "right", result.unit),
                Column("interval", text.confidence_label(level), "right"),
                Column("change", "Change", "right", result.unit),
                Column("n", "n", "right", "count")]
    if result.target is not None:
        columns.append(Column("status", "Status", "left"))
    rows = []
    suppressed = 0
    for row in _sorted_rows(result.breakdowns.get(table.by_key, ()), table, result.direction):
        cells = [Cell(part) for part in row.key]
        if row.suppressed:
            suppressed += 1
            cells += [Cell(text.MISSING), Cell(""), Cell(""), Cell(text.count(row.n), row.n)]
        else:
            interval = (text.interval(row.interval.low, row.interval.high, result.unit)
                        if row.interval else "")
            change = row.change
            delta = change.delta if change else None
            change_text = text.change(delta, result.unit, change.previous if change else None)
            if change and change.significant:
                change_text += " *"
            cells += [Cell(text.value(row.value, result.unit), row.value), Cell(interval),
                      Cell(change_text, delta, change_tone(change, result.direction)),
                      Cell(text.count(row.n), row.n)]
        if result.target is not None:
            label = text.status_label(row.status) or (text.MISSING if row.suppressed else "")
            cells.append(Cell(label, tone=text.status_tone(row.status) if row.status else None))
        rows.append(tuple(cells))
    notes = ["* significant change vs the previous period"
             f" (α = {result.change.alpha:g})" if result.change else "* significant change"]
    if suppressed:
        notes.append(f"{suppressed} segment(s) below the minimum n are not shown as values")
    return Table(id=f"{result.metric_id}_{table.by_key.replace(',', '_')}_{index}",
                 title=table.title or f"{result.label} by {' and '.join(text.humanise(k) for k in key_columns)}",
                 columns=tuple(columns), rows=tuple(rows), note="; ".join(notes) + ".")


def method_note(result: MetricResult) -> MethodNote:
    if result.interval:
        interval = f"{result.interval.method} {text.percent(result.interval.level, 0)} interval"
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
            test += f" ({text.p_value(change.p_value, change.alpha)})"
    suppressed = [f"{p.label}: {p.suppressed}" for p in result.history if p.suppressed]
    for name, rows in result.breakdowns.items():
        hidden = [r for r in rows if r.suppressed]
        if len(hidden) > _LISTED_SUPPRESSIONS:  # a long list helps nobody: say how many and why
            largest = max(r.n for r in hidden)
            suppressed.append(f"{name}: {len(hidden)} of {len(rows)} segments not shown, each "
                              f"with too few observations (largest {text.n_text(largest)})")
        else:
            suppressed += [f"{name} = {r.label}: {r.suppressed}" for r in hidden]
    return MethodNote(metric_id=result.metric_id, label=result.label, formula=result.formula,
                      test=test, n_text=f"{text.n_text(result.n)} in the period",
                      suppressed=tuple(suppressed))


def _warnings(metrics: Mapping[str, MetricResult], gates: Sequence[GateResult],
              period: Period) -> tuple[str, ...]:
    notes = [f"Data check: {g.message}." for g in gates if not g.passed]
    label = text.period_label(period.grain, period.start)
    notes += [f"{m.label}: {m.suppressed}; no value is reported for {label}."
              for m in metrics.values() if m.suppressed]
    return tuple(notes)


def _with_unit(figure: Figure, metrics: Mapping[str, MetricResult],
               metric_ids: Sequence[str]) -> Figure:
    if figure.unit is not None or not metric_ids or metric_ids[0] not in metrics:
        return figure
    return dataclasses.replace(figure, unit=metrics[metric_ids[0]].unit)


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
                   code_version: str, quality: Sequence[QualityCounts] = ()) -> ReportModel:
    """The model with every string written in the definition's locale."""
    with text.locale_scope(loaded.definition.locale):
        return _assemble(loaded, period, now=now, metrics=metrics, figures=figures,
                         findings=findings, gates=gates, input_hashes=input_hashes,
                         row_counts=row_counts, code_version=code_version, quality=quality)


def _assemble(loaded: LoadedDefinition, period: Period, *, now: datetime,
              metrics: Mapping[str, MetricResult], figures: Mapping[str, Figure],
              findings: Sequence[Finding], gates: Sequence[GateResult],
              input_hashes: Mapping[str, str], row_counts: Mapping[str, int],
              code_version: str, quality: Sequence[QualityCounts] = ()) -> ReportModel:
    definition = loaded.definition
    theme = theme_of(definition)
    kpis = {metric_id: make_kpi(result, theme) for metric_id, result in metrics.items()}
    ranked = sorted(findings, key=lambda f: -f.severity)
    sections = []
    for spec in definition.sections:
        shown = set(spec.kpis) | {m for c in spec.charts for m in definition.chart(c).metric_ids} \
            | {t.metric for t in spec.tables}
        sections.append(Section(
            id=spec.id, title=spec.title, intro=spec.intro,
            kpis=tuple(kpis[m] for m in spec.kpis),
            figures=tuple(_with_unit(figures[c], metrics, definition.chart(c).metric_ids)
                          for c in spec.charts if c in figures),
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
                              period=period.key, generated_at=now,
                              row_count_texts={n: text.count(c) for n, c in row_counts.items()},
                              data_quality=tuple([*(note for q in quality
                                                    for note in q.notes(period.key)),
                                                  *text.truncate.shortened_notes(metrics)])),
        theme=theme, subtitle=definition.description,
        owner=definition.owner or "", warnings=_warnings(metrics, gates, period),
        metrics=dict(metrics), locale=definition.locale, generated_text=text.timestamp(now))
