"""What a fan-out's segment report shows: its own segment, and the whole organisation's
figures only in one labelled block.

A segment's report is the whole report's definition narrowed to the segment:

* a chart or table broken down by a fan-out column is dropped (one queue's report would
  draw one bar, or a heatmap of one row);
* an intervention or action scoped to other segments is dropped, and one scoped to several
  is narrowed to this segment (its rows are the only ones the report reads); a control
  group told apart by a fan-out column lies outside the segment, so the segment's report
  compares before and after only;
* the parts of each section drawn from sources the fan-out does not split (calibration
  sessions, moderation decisions) move, in the sections' order, after the segment's own:
  the assembly shows them in one block, "Company-wide context (all queues)"
  (``reportgen.report.segment_context``), told by the plan's ``SegmentScope``, with the
  whole's values of the segment's KPIs to compare with (``reportgen.run.fanout.comparison``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reportgen.definition.content_specs import SectionSpec
from reportgen.plan.model import SegmentScope

if TYPE_CHECKING:
    from reportgen.definition.document import Definition
    from reportgen.definition.insight_specs import InterventionSpec
    from reportgen.report.actions import ActionSpec

#: the id of a section's part that shows the whole organisation's figures, when the section
#: also shows the segment's own
WHOLE_PART = "{id}-whole"


def segment_scope(definition: Definition, where: Mapping[str, Any], segmented: Collection[str],
                  whole_label: str, comparison: str = "") -> SegmentScope:
    """The plan's view of the segment (``where``: its value of each fan-out column): its
    columns and values, the sources not split, and the whole's figures to compare with."""
    return SegmentScope(columns=tuple(where), values=tuple(str(v) for v in where.values()),
                        whole_label=whole_label, comparison=comparison,
                        whole_sources=frozenset(n for n in definition.sources
                                                if n not in segmented))


def whole_metrics(definition: Definition, segmented: Collection[str]) -> frozenset[str]:
    """The metrics computed from sources the fan-out does not split."""
    return frozenset(m.id for m in definition.metrics if m.source not in segmented)


def narrowed(definition: Definition, where: Mapping[str, Any],
             segmented: Collection[str]) -> Definition:
    """``definition`` as the report of the segment ``where`` (its value of each fan-out
    column) shows it; see the module's docstring."""
    columns = set(where)
    whole = whole_metrics(definition, segmented)
    by_segment = {c.id for c in definition.charts
                  if columns & set(str(c.params.get("by", "")).split(","))}
    chart_metric = {c.id: c.metric_ids[0] for c in definition.charts}
    own: list[SectionSpec] = []
    context: list[SectionSpec] = []
    for spec in definition.sections:
        charts = [c for c in spec.charts if c not in by_segment]
        tables = [t for t in spec.tables if not columns & set(t.by_key.split(","))]
        mine = spec.model_copy(update={
            "kpis": [k for k in spec.kpis if k not in whole],
            "charts": [c for c in charts if chart_metric[c] not in whole],
            "tables": [t for t in tables if t.metric not in whole]})
        theirs = spec.model_copy(update={
            "kpis": [k for k in spec.kpis if k in whole],
            "charts": [c for c in charts if chart_metric[c] in whole],
            "tables": [t for t in tables if t.metric in whole]})
        if not _shows(theirs):
            own.append(mine)
        elif not _shows(mine):
            context.append(theirs)
        else:  # the section shows both: its whole organisation's part joins the block
            own.append(mine)
            context.append(theirs.model_copy(update={
                "id": WHOLE_PART.format(id=spec.id), "intro": "", "notes": []}))
    interventions = [i for i in (_narrowed_intervention(item, where)
                                 for item in definition.interventions) if i is not None]
    scorecard = definition.scorecard
    if scorecard is not None and scorecard.by in columns:
        scorecard = None  # one row: the segment's own KPIs are its summary
    return definition.model_copy(update={"sections": [*own, *context],
                                         "interventions": interventions,
                                         "scorecard": scorecard})


def _shows(spec: SectionSpec) -> bool:
    return bool(spec.kpis or spec.charts or spec.tables)


def _narrowed_intervention(item: InterventionSpec,
                           where: Mapping[str, Any]) -> InterventionSpec | None:
    scope: dict[str, Any] = dict(item.scope)
    for column, wanted in item.scope.items():
        if column not in where:
            continue
        values = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
        if str(where[column]) not in values:
            return None
        scope[column] = where[column]
    control = item.control
    if control is not None and control.column in where:
        control = None
    return item.model_copy(update={"scope": scope, "control": control})


def segment_actions(actions: Sequence[ActionSpec] | None,
                    where: Mapping[str, Any]) -> tuple[ActionSpec, ...] | None:
    """The actions of the register whose scope is the segment ``where`` or wider."""
    if actions is None:
        return None
    own = {c: str(v) for c, v in where.items()}
    return tuple(a for a in actions
                 if all(own.get(c, v) == v for c, v in a.scope.items()))
