"""A metric as a reader sees it: its KPI tile (value, change, significance, tone) and its
breakdown table.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen import text
from reportgen.definition.content_specs import TableSpec
from reportgen.insights import text as insight_text
from reportgen.report.headlines import table_headlines
from reportgen.report.model.metric_results import (
    ALL_EQUAL,
    BreakdownRow,
    Change,
    MetricResult,
    Tone,
)
from reportgen.report.model.report_model import Theme
from reportgen.report.model.sections import Cell, Column, Kpi, Table


def change_tone(change: Change | None, direction: str, delta: float | None = None) -> Tone:
    """Good or bad only for a significant move; anything else is neutral.

    ``delta``: the change as it is shown (``shown_delta``), when it is shown so; a move
    that shows as ±0.0 is neutral whatever the test says."""
    if change is None or change.delta is None or not change.significant:
        return "neutral"
    moved = change.delta if delta is None else delta
    if moved == 0:
        return "neutral"
    improved = (moved > 0) == (direction == "higher")
    return "good" if improved else "bad"


def shown_delta(value: float | None, change: Change | None, unit: str) -> float | None:
    """The change as a reader works it out from the two values as shown (80.0% against
    82.6% is 2.6 points, even when the unrounded values differ by 2.66), as findings state
    it; the unrounded change where either value is not shown."""
    if change is None or change.delta is None:
        return None
    if value is None or change.previous is None:
        return change.delta
    return text.shown_difference(value, change.previous, unit)


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
    delta = shown_delta(result.value, change, result.unit)
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
    tone = change_tone(change, result.direction, delta)
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
        scale_text=text.terms.scale_text(result.scale, result.direction),
        significance_detail=significance_detail(change),
        status_tone=text.status_tone(result.status),
        status_colour=text.status_colour(result.status, theme) if result.status else "",
        delta_colour=text.tone_colour(tone, theme),
        shown_delta=delta,
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
    starred = False
    ordered = _sorted_rows(result.breakdowns.get(table.by_key, ()), table, result.direction)
    for row in ordered:
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
                starred = True
            cells += [Cell(text.value(row.value, result.unit), row.value),
                      Cell(interval, interval=row.interval),
                      Cell(change_text, delta, change_tone(change, result.direction)),
                      Cell(text.count(row.n), row.n)]
        if result.target is not None:
            label = text.status_label(row.status) or (text.MISSING if row.suppressed else "")
            cells.append(Cell(label, tone=text.status_tone(row.status) if row.status else None))
        rows.append(tuple(cells))
    notes = [text.terms.change_mark_note(result.change.against if result.change else None)
             ] if starred else []
    all_small = bool(suppressed and suppressed == len(ordered))
    if all_small:
        # said once for the table, with the grain that would give the segments enough
        notes.append(text.terms.all_suppressed(
            " and ".join(text.humanise(k) for k in key_columns), [r.n for r in ordered],
            result.min_n, result.grain, result.n_noun))
    elif suppressed:
        notes.append(f"{text.plural(suppressed, 'segment')} below the minimum n "
                     f"{'is' if suppressed == 1 else 'are'} not shown as values")
    headlines, numbers = table_headlines(result, table.by_key, ordered)
    return Table(id=f"{result.metric_id}_{table.by_key.replace(',', '_')}_{index}",
                 title=table.title or f"{result.label} by {' and '.join(text.humanise(k) for k in key_columns)}",
                 columns=tuple(columns), rows=tuple(rows),
                 note="; ".join(notes) + "." if notes else "",
                 min_n=result.min_n if all_small else None,
                 headlines=headlines, headline_numbers=numbers)
