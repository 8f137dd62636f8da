"""The queue scorecard, the tiles' sparklines and the status legend, from computed metrics.

Every value comes from what the engine computed: a cell is a breakdown row of its metric
(value, change and its test, status against target) and its sparkline the row's history
(``BreakdownRow.history``, computed for the scorecard's breakdown); a tile's sparkline is
its metric's history.  Nothing is recomputed here; the text authority writes every number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from reportgen import text
from reportgen.charts.sparkline import sparkline_svg
from reportgen.definition.scorecard_specs import ScorecardSpec
from reportgen.report.model.metric_results import BreakdownRow, MetricResult, PeriodValue
from reportgen.report.model.report_model import Theme
from reportgen.report.model.scorecard import (
    LegendItem,
    Scorecard,
    ScorecardCell,
    ScorecardColumn,
    ScorecardRow,
    Sparkline,
)
from reportgen.report.model.sections import Kpi
from reportgen.report.scorecard_line import scorecard_line
from reportgen.report.tiles_and_tables import change_tone, shown_delta
from reportgen.text.sparks import GLYPHS, spark_glyphs

#: the label of a KPI without a target, in the legend
NO_TARGET = "No target"

#: a tile's sparkline and a scorecard cell's, in points
TILE_SPARK = (96.0, 20.0)
CELL_SPARK = (54.0, 14.0)


def status_legend(theme: Theme) -> tuple[LegendItem, ...]:
    """Every status a tile or a scorecard cell can show, with its colour, and no target."""
    items = [LegendItem(style.label, style.tone, text.status_colour(status, theme))
             for status, style in text.status.STATUSES.items()]
    return (*items, LegendItem(NO_TARGET, "neutral", text.status_colour(None, theme)))


def _sparkline(ident: str, values: Sequence[float | None], theme: Theme, size: tuple[float, float],
               *, end_colour: str, target: float | None, alt_text: str) -> Sparkline | None:
    if sum(v is not None for v in values) < 2:
        return None  # one point is no line
    width, height = size
    return Sparkline(id=ident, values=tuple(values), alt_text=alt_text,
                     glyphs=spark_glyphs(values),
                     svg=sparkline_svg(values, colour=theme.primary, width=width, height=height,
                                       end_colour=end_colour, target=target, title=alt_text))


def _span(history: Sequence[PeriodValue], grain: str) -> str:
    """``October 2025 to September 2026``: what a history's sparkline spans."""
    return (f"{text.period_label(grain, history[0].start)} to "
            f"{text.period_label(grain, history[-1].start)}")


def with_sparkline(kpi: Kpi, theme: Theme, grain: str) -> Kpi:
    """The tile with its metric's history as a sparkline (none with fewer than two values)."""
    result = kpi.metric
    values = [p.value for p in result.history]
    if not result.history:
        return kpi
    alt = f"{result.label}, {_span(result.history, grain)}"
    spark = _sparkline(f"spark-{result.metric_id}", values, theme, TILE_SPARK,
                       end_colour=kpi.status_colour or theme.primary, target=result.target,
                       alt_text=alt)
    return replace(kpi, sparkline=spark)


def _cell(result: MetricResult, row: BreakdownRow | None, segment: str, theme: Theme,
          grain: str) -> ScorecardCell:
    if row is None:
        return ScorecardCell(result.metric_id, text.MISSING, "")
    if row.suppressed:
        return ScorecardCell(result.metric_id, text.MISSING, "", n=row.n, history=row.history)
    change = row.change
    delta = change.delta if change else None
    # the change as the segment's shown values make it, as its tile and findings state it
    shown = shown_delta(row.value, change, result.unit)
    change_text = text.change(shown, result.unit, change.previous if change else None) \
        if change else ""
    significant = bool(change and change.significant and delta is not None)
    previous = change.previous if change else None
    # a count's change is also written relative to its previous value (+110 (+6.4%))
    relative = shown / previous if shown is not None and previous else None
    if significant:
        change_text += " *"
    tone = change_tone(change, result.direction, shown)
    status_colour = text.status_colour(row.status, theme) if row.status else ""
    spark = None
    if row.history:
        alt = f"{result.label}, {segment}: {_span(result.history, grain)}" if result.history \
            else f"{result.label}, {segment}"
        spark = _sparkline(f"spark-{result.metric_id}-{segment}", row.history, theme,
                           CELL_SPARK, end_colour=status_colour or theme.primary,
                           target=result.target, alt_text=alt)
    return ScorecardCell(
        metric_id=result.metric_id, value_text=text.value(row.value, result.unit),
        change_text=change_text, change_tone=tone, change_colour=text.tone_colour(tone, theme),
        status_text=text.status_label(row.status), status_tone=text.status_tone(row.status),
        status_colour=status_colour, sparkline=spark, value=row.value, delta=delta,
        significant=significant, relative=relative, test=change.test if change else None,
        status=row.status, n=row.n, history=row.history, shown_delta=shown)


def make_scorecard(spec: ScorecardSpec, metrics: Mapping[str, MetricResult], theme: Theme,
                   previous_label: str, grain: str) -> Scorecard:
    """The scorecard ``spec`` asks for: one row per segment any of its KPIs has (in name
    order), one cell per KPI (``—`` where the KPI has no value for the segment)."""
    results = [metrics[m] for m in spec.metrics if m in metrics]
    rows_by_metric = {r.metric_id: {row.key: row for row in r.breakdowns.get(spec.by, ())}
                      for r in results}
    keys = sorted({key for rows in rows_by_metric.values() for key in rows})
    rows = []
    for key in keys:
        label = " / ".join(text.value_label(part) for part in key)
        rows.append(ScorecardRow(label, tuple(
            _cell(r, rows_by_metric[r.metric_id].get(key), label, theme, grain)
            for r in results)))
    columns = tuple(ScorecardColumn(
        r.metric_id, r.label,
        f"Target {text.value(r.target, r.unit)}" if r.target is not None else "")
        for r in results)
    notes = [f"Change against {previous_label}; "
             f"{text.terms.change_mark_note(None)} (the test is in the appendix)."]
    suppressed = sum(1 for row in rows for cell in row.cells if cell.value_text == text.MISSING)
    if suppressed:
        notes.append(f"{text.MISSING} no value: the segment is below the minimum n, or the KPI "
                     "has none.")
    spans = [r.history for r in results if r.history]
    span = _span(spans[0], grain) if spans else ""
    segment = text.humanise(spec.by)
    line, line_numbers = scorecard_line(rows, results, segment)
    return Scorecard(
        title=spec.title or f"Scorecard by {segment}", by_label=segment.capitalize(),
        columns=columns, rows=tuple(rows), trend_label=span, note=" ".join(notes),
        trend_note=f"Lines: each {segment}'s value from {span}; the dot is the latest, the "
                   "dashed line the target." if span else "",
        glyph_note=f"Trends: each {segment}'s value from {span} ({GLYPHS[0]} its lowest, "
                   f"{GLYPHS[-1]} its highest)." if span else "",
        line=line, line_numbers=line_numbers)
