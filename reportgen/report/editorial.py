"""Which findings a reader sees and how they read: the executive summary's picks, each
section's, their figures and value labels, and sentences edited for a director (plain,
numbered notes, never twice).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from reportgen import text
from reportgen.insights import text as insight_text
from reportgen.insights.headline import in_summary
from reportgen.plan.model import AnyReportPlan
from reportgen.report.headlines import with_headlines
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import ReportModel, StatNote
from reportgen.report.model.sections import Figure, Finding


def _with_unit(figure: Figure, metrics: Mapping[str, MetricResult],
               metric_ids: Sequence[str]) -> Figure:
    if not metric_ids or metric_ids[0] not in metrics:
        return figure
    metric = metrics[metric_ids[0]]
    return dataclasses.replace(figure, unit=figure.unit or metric.unit, metric_id=metric.metric_id)


#: The executive summary holds at most this many findings, so it fits one page with the tiles.
SUMMARY_MAX = 5


#: Kinds that are not news: "no significant change" is said once per section in a sentence,
#: withheld values are listed in the methodology, earlier control signals are in the chart.
NOT_SHOWN = frozenset({"no_significant_change", "no_test", "small_sample", "control_history"})


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
        if finding.kind in NOT_SHOWN or finding.metric_id in metrics or not in_summary(finding):
            continue
        chosen.append(finding)
        metrics.add(finding.metric_id)
    return tuple(chosen)


def with_figures(model: ReportModel, plan: AnyReportPlan,
                 metrics: Mapping[str, MetricResult], figures: Mapping[str, Figure]) -> ReportModel:
    """``model`` with each section's drawn charts, in the section's order, typed by unit,
    each with the headline its slide states."""
    charts = {spec.id: spec.charts for spec in plan.definition.sections}
    return with_headlines(dataclasses.replace(model, sections=tuple(
        dataclasses.replace(section, figures=tuple(
            _with_unit(figures[c], metrics, plan.chart(c).spec.metric_ids)
            for c in charts.get(section.id, ()) if c in figures))
        for section in model.sections)))


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


class FindingEditor:
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
        real = {"difference": insight_text.REAL_DIFFERENCE,
                "equivalence": insight_text.REAL_EQUIVALENCE}.get(
                    str(finding.numbers.get("claim")), insight_text.REAL_CHANGE)
        sentence, detail = insight_text.plain_sentence(
            finding.sentence, None if significant is None else bool(significant), self.labels,
            real=real)
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
