"""Assemble the ReportModel from computed metrics, figures and findings.

The last pure stage: it decides every string a reader sees (KPI tiles, tables, the
methodology), so both renderers only place what is here.  The tiles and tables are made in
``tiles_and_tables``, the findings chosen and edited in ``editorial``, the methodology in
``method_notes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from reportgen import text
from reportgen.data.gates import GateResult
from reportgen.data.quality import QualityCounts, empty_metric_notes, metric_notes
from reportgen.period import Period
from reportgen.plan.model import AnyReportPlan
from reportgen.report.actions import ActionSpec, action_register, readout
from reportgen.report.editorial import (
    NOT_SHOWN,
    FindingEditor,
    move_key,
    steady_text,
    summary_findings,
    value_labels,
    with_figures,
)
from reportgen.report.method_notes import check_values, data_warnings, method_note
from reportgen.report.model.metric_results import (
    MetricResult,
)
from reportgen.report.model.report_model import (
    PeriodInfo,
    Provenance,
    ReportModel,
    Theme,
)
from reportgen.report.model.sections import Figure, Finding, Section
from reportgen.report.scorecard import make_scorecard, status_legend, with_sparkline
from reportgen.report.segment_context import (
    about_segment,
    context_comparison,
    context_intro,
    context_title,
    whole_metric_ids,
)
from reportgen.report.tiles_and_tables import breakdown_table, make_kpi


def theme_of(plan: AnyReportPlan) -> Theme:
    """The report's look: the definition's theme, its palette the default one if it names none."""
    spec = plan.definition.theme
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


def assemble_model(plan: AnyReportPlan, period: Period, *, now: datetime,
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
    with text.locale_scope(plan.definition.locale):
        return _assemble(plan, period, now=now, metrics=metrics, figures=figures,
                         findings=findings, gates=gates, input_hashes=input_hashes,
                         row_counts=row_counts, code_version=code_version, actions=actions,
                         quality=quality)


def _assemble(plan: AnyReportPlan, period: Period, *, now: datetime,
              metrics: Mapping[str, MetricResult], figures: Mapping[str, Figure],
              findings: Sequence[Finding], gates: Sequence[GateResult],
              input_hashes: Mapping[str, str], row_counts: Mapping[str, int],
              code_version: str, actions: Sequence[ActionSpec] | None,
              quality: Sequence[QualityCounts] = ()) -> ReportModel:
    definition = plan.definition
    theme = theme_of(plan)
    kpis = {metric_id: make_kpi(result, theme) for metric_id, result in metrics.items()}
    ranked = [f for f in sorted(findings, key=lambda f: -f.severity)
              if f.kind not in NOT_SHOWN and about_segment(f, plan.segment)]
    # a segment's report: the whole organisation's figures are told in their own block
    whole = whole_metric_ids(plan)
    headline = [f for f in ranked if f.metric_id not in whole]
    editor = FindingEditor(metrics, value_labels(metrics))
    picked = summary_findings(headline, definition.insights.summary_findings)
    summary = tuple(e for e in (editor.edit(f) for f in picked) if e is not None)
    placed = {id(f) for f in picked}
    told = {key for key in map(move_key, summary) if key is not None}
    sections = []
    for spec in definition.sections:
        shown = set(spec.kpis) | {m for c in spec.charts for m in plan.chart(c).spec.metric_ids} \
            | {t.metric for t in spec.tables}
        edited: list[Finding] = []
        for finding in ranked:
            if len(edited) == spec.findings:
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
            steady_text=steady_text([metrics[m] for m in spec.kpis if m in metrics]),
            whole=bool(whole) and bool(shown) and shown <= whole))
    shown_findings = summary + tuple(f for s in sections for f in s.findings)
    register = None if actions is None else action_register(
        actions, metrics, shown_findings, period)
    summary_ids = tuple(m for m in plan.headline if m not in whole)
    model = ReportModel(
        report_id=definition.id, title=definition.title, organisation=definition.organisation,
        period=period_info(period), generated_at=now,
        summary_kpis=tuple(with_sparkline(kpis[m], theme, definition.period.grain)
                           for m in summary_ids),
        findings=summary,
        sections=tuple(sections),
        methodology=tuple(method_note(metrics[m.spec.id], definition.period.grain)
                          for m in plan.metrics),
        provenance=Provenance(definition_hash=plan.loaded.hash, input_hashes=dict(input_hashes),
                              row_counts=dict(row_counts), code_version=code_version,
                              period=period.key, generated_at=now,
                              row_count_texts={n: text.count(c) for n, c in row_counts.items()},
                              quality_counts={f"{q.source}:{reason}": n for q in quality
                                              for reason, n in q.as_record(period.key).items()},
                              data_quality=tuple([*(note for q in quality
                                                    for note in q.notes(period.key)),
                                                  *metric_notes(metrics),
                                                  *empty_metric_notes(
                                                      {m.spec.id: m.spec.source
                                                       for m in plan.metrics},
                                                      metrics, row_counts),
                                                  *text.truncate.shortened_notes(metrics)])),
        theme=theme, subtitle=definition.description,
        owner=definition.owner or "", warnings=data_warnings(metrics, gates, period),
        check_values=check_values(gates),
        metrics=dict(metrics), locale=definition.locale, generated_text=text.timestamp(now, period.timezone),
        stat_notes=tuple(editor.notes), actions=register,
        # with nothing to report, the summary still says the headline held steady
        steady_text="" if summary else steady_text(
            [metrics[m] for m in summary_ids if m in metrics]),
        readout=readout(shown_findings, register),
        scorecard=None if definition.scorecard is None else make_scorecard(
            definition.scorecard, metrics, theme, period_info(period).previous_label,
            definition.period.grain),
        status_legend=status_legend(theme),
        context_title=context_title(plan.segment), context_intro=context_intro(plan.segment),
        context_comparison=context_comparison(plan.segment))
    return with_figures(model, plan, metrics, figures)
