"""Assemble the ReportModel from computed metrics, figures and findings.

The last pure stage: it decides every string a reader sees (KPI tiles, tables, the
methodology), so both renderers only place what is here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from reportgen import text
from reportgen.data.gates import GateResult
from reportgen.data.quality import QualityCounts, empty_metric_notes, metric_notes
from reportgen.definition import LoadedDefinition
from reportgen.definition.content_specs import TableSpec
from reportgen.definition.document import Definition
from reportgen.insights import text as insight_text
from reportgen.insights.headline import in_summary
from reportgen.period import Period
from reportgen.report.actions import ActionSpec, action_register, readout
from reportgen.report.model.metric_results import (
    ALL_EQUAL,
    BreakdownRow,
    Change,
    MetricResult,
    Tone,
)
from reportgen.report.model.report_model import (
    MethodNote,
    PeriodInfo,
    Provenance,
    ReportModel,
    StatNote,
    Theme,
)
from reportgen.report.model.sections import Cell, Column, Figure, Finding, Kpi, Section, Table

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
    """What the test says, in plain words: ``a real change, not noise``, ``within normal
    variation``, ``not tested``; the p-value itself is ``significance_detail``."""
    if change is None or change.delta is None:
        return "no comparison"
    if change.test is None:
        return "not tested"
    return insight_text.REAL_CHANGE if change.significant else insight_text.NORMAL_VARIATION


def significance_detail(change: Change | None) -> str:
    """``significant (p = 0.024)``, ``not significant (p = 0.49)``; empty when untested."""
    if change is None or change.delta is None or change.test is None:
        return ""
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
        interval_text=text.interval_text(result.interval, result.unit, n=result.n),
        n_text=n_text,
        target_text=target,
        status_text=text.status_label(result.status),
        delta_tone=tone,
        arrow=arrow,  # type: ignore[arg-type]
        significance_text=significance_text(change),
        significance_detail=significance_detail(change),
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
        cells = [Cell(text.value_label(part)) for part in row.key]
        if row.suppressed:
            suppressed += 1
            cells += [Cell(text.MISSING), Cell(""), Cell(""), Cell(text.count(row.n), row.n)]
        else:
            interval = ("" if row.interval is None
                        else text.interval_text(row.interval, result.unit, n=row.n)
                        if row.interval.method == ALL_EQUAL
                        else text.interval(row.interval.low, row.interval.high, result.unit))
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
             f" ({text.significance(result.change.alpha)})" if result.change else "* significant change"]
    if suppressed:
        notes.append(f"{suppressed} segment(s) below the minimum n are not shown as values")
    return Table(id=f"{result.metric_id}_{table.by_key.replace(',', '_')}_{index}",
                 title=table.title or f"{result.label} by {' and '.join(text.humanise(k) for k in key_columns)}",
                 columns=tuple(columns), rows=tuple(rows), note="; ".join(notes) + ".")


def method_note(result: MetricResult) -> MethodNote:
    if result.interval and result.interval.method == ALL_EQUAL:
        interval = f"no interval: {text.interval_text(result.interval, result.unit, n=result.n)}"
    elif result.interval:
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
        test += f"; {change.test} vs {change.against} at {text.significance(change.alpha)}"
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


#: The executive summary holds at most this many findings, so it fits one page with the tiles.
SUMMARY_MAX = 5
#: A section lists at most this many findings (the most severe); the rest are detail a
#: director does not act on (a metric "at risk" its tile already flags, the share of each
#: cause the pareto chart draws), and the tables and charts beside them carry the numbers.
SECTION_MAX = 3
#: Kinds that are not news: "no significant change" is said once per section in a sentence,
#: withheld values are listed in the methodology, earlier control signals are in the chart.
_NOT_SHOWN = frozenset({"no_significant_change", "no_test", "small_sample", "control_history"})


#: Kinds that state a metric's move; one metric's move in one scope is told once, by the
#: most severe of them (a fall against last month and against last year is one story).
_MOVES = frozenset({"significant_change", "year_over_year", "segment_change"})


def move_key(finding: Finding) -> tuple[str, str] | None:
    """What a finding about a move is about (metric and scope); None for other kinds."""
    return (finding.metric_id, finding.scope) if finding.kind in _MOVES else None


def summary_findings(ranked: Sequence[Finding], count: int) -> tuple[Finding, ...]:
    """The ``count`` (at most five) most severe findings, one per metric.

    Two findings about one metric tell one story twice (the Billing queue's drop *is* why
    CSAT fell), so the summary keeps the most severe and the section tells the rest.  A
    claim outside the report-level budget (``insights.headline``) is told in its section
    only: the summary states no change that is not held across the headline metrics.
    """
    chosen: list[Finding] = []
    metrics: set[str] = set()
    for finding in ranked:
        if len(chosen) >= min(count, SUMMARY_MAX):
            break
        if finding.kind in _NOT_SHOWN or finding.metric_id in metrics or not in_summary(finding):
            continue
        chosen.append(finding)
        metrics.add(finding.metric_id)
    return tuple(chosen)


def with_figures(model: ReportModel, definition: Definition,
                 metrics: Mapping[str, MetricResult], figures: Mapping[str, Figure]) -> ReportModel:
    """``model`` with each section's drawn charts, in the section's order, typed by unit."""
    charts = {spec.id: spec.charts for spec in definition.sections}
    return dataclasses.replace(model, sections=tuple(
        dataclasses.replace(section, figures=tuple(
            _with_unit(figures[c], metrics, definition.chart(c).metric_ids)
            for c in charts.get(section.id, ()) if c in figures))
        for section in model.sections))


def value_labels(metrics: Mapping[str, MetricResult]) -> dict[str, str]:
    """Display labels of the breakdown values written like codes (``hate_speech``)."""
    labels: dict[str, str] = {}
    for result in metrics.values():
        for rows in result.breakdowns.values():
            for row in rows:
                for part in row.key:
                    label = text.value_label(part)
                    if label != part:
                        labels[part] = label
    return labels


def with_value_labels(result: MetricResult) -> MetricResult:
    """The metric with its breakdown values as a reader names them (``hate_speech`` ->
    ``Hate speech``), for what charts draw: axis categories, legends and their data."""
    if not result.breakdowns:
        return result
    return dataclasses.replace(result, breakdowns={
        name: tuple(dataclasses.replace(row, key=tuple(text.value_label(k) for k in row.key))
                    for row in rows)
        for name, rows in result.breakdowns.items()})


#: The claim a sentence opens with: ``CSAT fell 3.7 points`` (up to the number's unit).
_LEAD = re.compile(r"^(.+? (?:fell|rose) [^ ]+ [^ :,]+)")


class _Editor:
    """Writes findings for a director: plain sentences, readable tags, numbered notes,
    and no sentence twice."""

    def __init__(self, metrics: Mapping[str, MetricResult], labels: Mapping[str, str]):
        self.metrics = metrics
        self.labels = labels
        self.notes: list[StatNote] = []
        self.sentences: set[str] = set()
        self.leads: set[str] = set()

    def edit(self, finding: Finding) -> Finding | None:
        significant = finding.numbers.get("significant")
        if significant is None and finding.direction in ("improved", "declined"):
            significant = True
        sentence, detail = insight_text.plain_sentence(
            finding.sentence, None if significant is None else bool(significant), self.labels)
        sentence = self._without_repeated_lead(sentence)
        if sentence in self.sentences:
            return None
        self.sentences.add(sentence)
        tag = insight_text.scope_tag(finding.scope, self.labels)
        number = 0
        if detail:
            number = len(self.notes) + 1
            metric = self.metrics.get(finding.metric_id)
            label = metric.label if metric else finding.metric_id
            self.notes.append(StatNote(number, f"{label}, {tag}" if tag else label, detail))
        return dataclasses.replace(finding, sentence=sentence, tag=tag, detail=detail, note=number)


    def _without_repeated_lead(self, sentence: str) -> str:
        """``CSAT fell 3.7 points: mostly changes within queues ...`` after the change was
        stated reads ``Mostly changes within queues ...``: the reader has the number."""
        lead = _LEAD.match(sentence)
        if lead is None:
            return sentence
        claim = lead.group(1)
        rest = sentence[len(claim):]
        if claim in self.leads and rest.startswith(": "):
            return rest[2].upper() + rest[3:]
        self.leads.add(claim)
        return sentence


def steady_text(results: Sequence[MetricResult]) -> str:
    """``NPS and QA score moved within normal variation against August 2026.``"""
    steady = [r for r in results if r.change and r.change.test and r.change.delta is not None
              and not r.change.significant and not r.suppressed]
    if not steady:
        return ""
    against = steady[0].change.against if steady[0].change else ""
    return (f"{insight_text.join_names([r.label for r in steady])} moved within normal "
            f"variation against {against}: no real change.")


def assemble_model(loaded: LoadedDefinition, period: Period, *, now: datetime,
                   metrics: Mapping[str, MetricResult], figures: Mapping[str, Figure],
                   findings: Sequence[Finding], gates: Sequence[GateResult],
                   input_hashes: Mapping[str, str], row_counts: Mapping[str, int],
                   code_version: str, actions: Sequence[ActionSpec] | None = None,
                   quality: Sequence[QualityCounts] = ()) -> ReportModel:
    """The model with every string written in the definition's locale.

    ``actions`` is the definition's action register as read and checked by the pipeline
    (None when the definition names none): assembly reads no file.  ``quality``: each
    source's counted drops, for the data-quality note.
    """
    with text.locale_scope(loaded.definition.locale):
        return _assemble(loaded, period, now=now, metrics=metrics, figures=figures,
                         findings=findings, gates=gates, input_hashes=input_hashes,
                         row_counts=row_counts, code_version=code_version, actions=actions,
                         quality=quality)


def _assemble(loaded: LoadedDefinition, period: Period, *, now: datetime,
              metrics: Mapping[str, MetricResult], figures: Mapping[str, Figure],
              findings: Sequence[Finding], gates: Sequence[GateResult],
              input_hashes: Mapping[str, str], row_counts: Mapping[str, int],
              code_version: str, actions: Sequence[ActionSpec] | None,
              quality: Sequence[QualityCounts] = ()) -> ReportModel:
    definition = loaded.definition
    theme = theme_of(definition)
    kpis = {metric_id: make_kpi(result, theme) for metric_id, result in metrics.items()}
    ranked = [f for f in sorted(findings, key=lambda f: -f.severity) if f.kind not in _NOT_SHOWN]
    editor = _Editor(metrics, value_labels(metrics))
    summary = tuple(e for e in (editor.edit(f) for f in
                                summary_findings(ranked, definition.insights.summary_findings))
                    if e is not None)
    placed = {id(f) for f in summary_findings(ranked, definition.insights.summary_findings)}
    told = {key for key in map(move_key, summary) if key is not None}
    sections = []
    for spec in definition.sections:
        shown = set(spec.kpis) | {m for c in spec.charts for m in definition.chart(c).metric_ids} \
            | {t.metric for t in spec.tables}
        edited: list[Finding] = []
        for finding in ranked:
            if len(edited) == SECTION_MAX:
                break
            if finding.metric_id in shown and id(finding) not in placed:
                placed.add(id(finding))
                move = move_key(finding)
                if move is not None:
                    if move in told:
                        continue
                    told.add(move)
                written = editor.edit(finding)
                if written is not None:
                    edited.append(written)
        sections.append(Section(
            id=spec.id, title=spec.title, intro=spec.intro,
            kpis=tuple(kpis[m] for m in spec.kpis),
            figures=(),  # placed by with_figures, here or where the charts are drawn
            tables=tuple(breakdown_table(metrics[t.metric], t, i) for i, t in enumerate(spec.tables)),
            findings=tuple(edited), notes=tuple(spec.notes),
            steady_text=steady_text([metrics[m] for m in spec.kpis if m in metrics])))
    shown_findings = summary + tuple(f for s in sections for f in s.findings)
    register = None if actions is None else action_register(
        actions, metrics, shown_findings, period)
    summary_ids = definition.summary or list(dict.fromkeys(
        s.kpis[0] for s in definition.sections if s.kpis))
    model = ReportModel(
        report_id=definition.id, title=definition.title, organisation=definition.organisation,
        period=period_info(period), generated_at=now,
        summary_kpis=tuple(kpis[m] for m in summary_ids),
        findings=summary,
        sections=tuple(sections),
        methodology=tuple(method_note(metrics[m.id]) for m in definition.metrics),
        provenance=Provenance(definition_hash=loaded.hash, input_hashes=dict(input_hashes),
                              row_counts=dict(row_counts), code_version=code_version,
                              period=period.key, generated_at=now,
                              row_count_texts={n: text.count(c) for n, c in row_counts.items()},
                              data_quality=tuple([*(note for q in quality
                                                    for note in q.notes(period.key)),
                                                  *metric_notes(metrics),
                                                  *empty_metric_notes(
                                                      {m.id: m.source for m in definition.metrics},
                                                      metrics, row_counts),
                                                  *text.truncate.shortened_notes(metrics)])),
        theme=theme, subtitle=definition.description,
        owner=definition.owner or "", warnings=_warnings(metrics, gates, period),
        metrics=dict(metrics), locale=definition.locale, generated_text=text.timestamp(now, period.timezone),
        stat_notes=tuple(editor.notes), actions=register,
        # with nothing to report, the summary still says the headline held steady
        steady_text="" if summary else steady_text(
            [metrics[m] for m in summary_ids if m in metrics]),
        readout=readout(shown_findings, register))
    return with_figures(model, definition, metrics, figures)
