"""The rows of the workbook's sheets: metrics, their history, findings, the scorecard and
its trends, tables and the data of each chart, with headers a reader understands and a kind
per cell (see :mod:`reportgen.render.xlsx_cells`).

Headers are the words the PDF uses: a metric's label, a table's column labels, ``95% CI``
for an interval (stored as its two ends, ``95% CI, low`` and ``95% CI, high``), breakdown
columns as words (``policy_area`` -> ``Policy area``).  Statuses are the status palette's
labels.  Nothing is computed here but the placement of what the model holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportgen import text
from reportgen.errors import RenderError
from reportgen.render.xlsx_cells import Kind, period_date, period_kind, typed, unit_kind
from reportgen.report.model.metric_results import Interval, MetricResult
from reportgen.report.model.scorecard import Scorecard
from reportgen.report.model.sections import Figure, Finding, Table


@dataclass(frozen=True)
class Rows:
    """A sheet's header and rows, each cell with its kind (which picks its number format)."""

    header: list[str]
    values: list[list[Any]]
    kinds: list[list[Kind]]
    #: Rows whose numbers are compared (a format keeps them apart); one group when None.
    groups: list[object] | None = None


#: Words for the columns chart builders name the same way in every chart.
_COLUMN_WORDS: Mapping[str, str] = {
    "period": "Period", "label": "Label on the chart", "n": "n", "count": "Count",
    "target": "Target", "status": "Status", "suppressed": "Withheld because",
    "group": "Group", "auditor": "Auditor", "bias": "Bias",
    "mean_abs_deviation": "Mean absolute deviation",
    "within_tolerance": "Share within tolerance", "outside_tolerance": "Outside tolerance",
    "tolerance": "Tolerance", "ucl": "Upper control limit", "lcl": "Lower control limit",
    "center": "Centre line", "out_of_control": "Outside the control limits",
    "cumulative_share": "Cumulative share", "vital_few": "Among the vital few",
}
_COUNT_COLUMNS = frozenset({"n", "count"})
_SHARE_COLUMNS = frozenset({"within_tolerance", "cumulative_share"})


def words(key: str) -> str:
    """A data key as a header: ``policy_area`` -> ``Policy area``."""
    said = text.humanise(key).strip()
    return said[:1].upper() + said[1:] if said else key


def ci_label(metrics: Iterable[MetricResult]) -> str:
    """``95% CI`` at the intervals' level (the most common one among ``metrics``)."""
    levels = [m.interval.level for m in metrics if m.interval is not None]
    level = max(set(levels), key=levels.count) if levels else 0.95
    return text.confidence_label(level)


def status_text(status: Any) -> str | None:
    """A status as the palette spells it (``On target``); empty for none."""
    if status is None:
        return None
    return text.status_label(str(status)) or str(status)


def metric_rows(metrics: Sequence[MetricResult]) -> Rows:
    """One row per metric: value, interval, previous value, change and its test, target."""
    ci = ci_label(metrics)
    levels = {m.interval.level for m in metrics if m.interval is not None}
    header = ["Metric", "Metric id", "Unit", "Value", f"{ci}, low", f"{ci}, high", "n",
              "Previous", "Change", "Test", "p-value", "Significant", "Target", "Status",
              "Withheld because"]
    if len(levels) > 1:
        header[4:6] = ["Interval, low", "Interval, high"]
        header.append("Interval level")
    rows: list[list[Any]] = []
    kinds: list[list[Kind]] = []
    for m in metrics:
        change = m.change
        unit = unit_kind(m.unit)
        low, high = _ends(m.interval)
        row = [m.label, m.metric_id, m.unit, None if m.suppressed else m.value, low, high, m.n,
               change.previous if change else None,
               _change_value(change.delta if change else None, m.unit),
               change.test if change else None, change.p_value if change else None,
               change.significant if change and change.test else None, m.target,
               status_text(m.status), m.suppressed]
        kind: list[Kind] = [None, None, None, unit, unit, unit, "count", unit, f"change:{unit}",
                            None, "p_value", "boolean", unit, None, None]
        if len(levels) > 1:
            row.append(m.interval.level if m.interval else None)
            kind.append("percent")
        rows.append([typed(v, k) for v, k in zip(row, kind, strict=True)])
        kinds.append(kind)
    return Rows(header, rows, kinds, groups=list(range(len(rows))))


def history_rows(metrics: Sequence[MetricResult]) -> Rows:
    """Every metric's value per period of its history, the period as a date."""
    ci = ci_label(metrics)
    header = ["Metric", "Period", "Value", f"{ci}, low", f"{ci}, high", "n", "Withheld because"]
    rows: list[list[Any]] = []
    kinds: list[list[Kind]] = []
    groups: list[object] = []
    for m in metrics:
        unit = unit_kind(m.unit)
        for point in m.history:
            groups.append(m.metric_id)
            low, high = _ends(point.interval)
            rows.append([m.label, period_date(point.period) or point.start,
                         typed(point.value, unit), typed(low, unit), typed(high, unit), point.n,
                         point.suppressed])
            kinds.append([None, period_kind(point.period), unit, unit, unit, "count", None])
    return Rows(header, rows, kinds, groups)


def finding_rows(findings: Sequence[Finding], metrics: Mapping[str, MetricResult]) -> Rows:
    """The key findings in the words of the report, with the metric they are about."""
    header = ["Metric", "Scope", "Finding", "Direction", "Severity"]
    rows = [[metrics[f.metric_id].label if f.metric_id in metrics else f.metric_id, f.scope,
             f.sentence, f.direction or None, f.severity] for f in findings]
    return Rows(header, rows, [[None, None, None, None, "number"]] * len(rows))


def scorecard_rows(card: Scorecard, metrics: Mapping[str, MetricResult]) -> Rows:
    """One row per segment; per KPI its value, n, change, whether the change is a real one
    and its status (``CSAT``, ``CSAT, n``, ``CSAT, change``...), as the scorecard page shows
    them.  A withheld value is an empty cell beside its n; a KPI has no n column when it is
    a count (its n is its value), no status without a target and no significance when
    none of its changes was tested."""
    parts: list[tuple[int, tuple[str, ...]]] = []
    header = [card.by_label]
    for index, column in enumerate(card.columns):
        result = metrics[column.metric_id]
        shown = ("value",) + (("n",) if result.unit != "count" else ()) + ("change",)
        if any(row.cells[index].test is not None for row in card.rows):
            shown += ("significant",)
        if result.target is not None:
            shown += ("status",)
        parts.append((index, shown))
        header += [column.label if part == "value" else f"{column.label}, {part}"
                   for part in shown]
    rows: list[list[Any]] = []
    kinds: list[list[Kind]] = []
    for row in card.rows:
        values: list[Any] = [row.label]
        row_kinds: list[Kind] = [None]
        for index, shown in parts:
            cell = row.cells[index]
            unit = metrics[cell.metric_id].unit
            kind = unit_kind(unit)
            tested = cell.delta is not None and cell.test is not None
            cells: dict[str, tuple[Any, Kind]] = {
                "value": (typed(cell.value, kind), kind), "n": (cell.n, "count"),
                "change": (_change_value(cell.delta, unit), f"change:{kind}"),
                "significant": (cell.significant if tested else None, "boolean"),
                "status": (status_text(cell.status), None)}
            values += [cells[part][0] for part in shown]
            row_kinds += [cells[part][1] for part in shown]
        rows.append(values)
        kinds.append(row_kinds)
    return Rows(header, rows, kinds)


def scorecard_trend_rows(card: Scorecard, metrics: Mapping[str, MetricResult]) -> Rows:
    """The scorecard's trends as numbers: each segment's value per period of its KPI's
    history (what its sparkline draws), the period as a date."""
    header = [card.by_label, "Metric", "Period", "Value"]
    rows: list[list[Any]] = []
    kinds: list[list[Kind]] = []
    groups: list[object] = []
    for index, column in enumerate(card.columns):
        result = metrics[column.metric_id]
        kind = unit_kind(result.unit)
        for row in card.rows:
            cell = row.cells[index]
            for point, value in zip(result.history, cell.history, strict=False):
                groups.append(column.metric_id)
                rows.append([row.label, column.label, period_date(point.period) or point.start,
                             typed(value, kind)])
                kinds.append([None, None, period_kind(point.period), kind])
    return Rows(header, rows, kinds, groups)


def table_rows(table: Table) -> Rows:
    """A model table with numbers where the model has them and its text elsewhere; an
    interval column becomes two numeric columns, its low and its high end."""
    value_unit = next((c.unit for c in table.columns if c.key == "value" and c.unit), None)
    intervals = {i for i, c in enumerate(table.columns)
                 if c.key == "interval" or any(len(r) > i and r[i].interval for r in table.rows)}
    header: list[str] = []
    for index, column in enumerate(table.columns):
        if index in intervals:
            header += [f"{column.label}, low", f"{column.label}, high"]
        else:
            header.append(column.label)
    rows: list[list[Any]] = []
    kinds: list[list[Kind]] = []
    for row in table.rows:
        values: list[Any] = []
        row_kinds: list[Kind] = []
        for index, (column, cell) in enumerate(zip(table.columns, row, strict=False)):
            number = (cell.value if isinstance(cell.value, int | float)
                      and not isinstance(cell.value, bool) else None)
            if index in intervals:
                unit = unit_kind(column.unit or value_unit)
                values += [typed(end, unit) for end in _ends(cell.interval)]
                row_kinds += [unit, unit]
            elif column.unit is None or (number is None and cell.text not in ("", text.MISSING)):
                values.append(cell.text or None)
                row_kinds.append(None)
            elif number is None:
                values.append(None)  # a withheld number stays an empty cell in a numeric column
                row_kinds.append(None)
            elif column.key == "change":
                values.append(_change_value(float(number), column.unit))
                row_kinds.append(f"change:{unit_kind(column.unit)}")
            else:
                kind = unit_kind(column.unit)
                values.append(typed(number, kind))
                row_kinds.append(kind)
        rows.append(values)
        kinds.append(row_kinds)
    return Rows(header, rows, kinds)


def figure_rows(figure: Figure, metrics: Mapping[str, MetricResult]) -> Rows:
    """The data a chart drew, one column per series, typed by the chart's metric unit."""
    columns = list(figure.data)
    length = max((len(v) for v in figure.data.values()), default=0)
    short = [c for c in columns if len(figure.data[c]) != length]
    if short:
        raise RenderError(f"xlsx: chart '{figure.id}' data columns differ in length "
                          f"({', '.join(short)} has fewer than {length} values)")
    kinds = {c: _column_kind(c, figure, metrics) for c in columns}
    header = _unique([_figure_header(c, figure, metrics) for c in columns])
    rows: list[list[Any]] = []
    row_kinds: list[list[Kind]] = []
    for i in range(length):
        row: list[Any] = []
        cell_kinds: list[Kind] = []
        for c in columns:
            value, kind = _figure_cell(c, figure.data[c][i], kinds[c])
            row.append(value)
            cell_kinds.append(kind)
        rows.append(row)
        row_kinds.append(cell_kinds)
    return Rows(header, rows, row_kinds)


def _figure_header(key: str, figure: Figure, metrics: Mapping[str, MetricResult]) -> str:
    metric = metrics.get(figure.metric_id)
    ci = ci_label([metric] if metric else [])
    if key in metrics:
        return metrics[key].label
    stem, _, end = key.rpartition("_")
    if stem in metrics and end in ("low", "high"):
        return f"{metrics[stem].label} {ci}, {end}"
    if stem in metrics and end == "n":
        return f"{metrics[stem].label}, n"
    if key in ("value", "p"):
        return metric.label if metric else "Value"
    if key in ("low", "high"):
        return f"{ci}, {key}"
    if figure.kind == "distribution" and key.endswith(" share"):
        return f"{text.value_label(key.removesuffix(' share'))}, share"
    if figure.kind == "distribution" and key not in _COLUMN_WORDS:
        return f"{text.value_label(key)}, count"
    return _COLUMN_WORDS.get(key) or words(key)


def _column_kind(key: str, figure: Figure, metrics: Mapping[str, MetricResult]) -> Kind | str:
    present = [v for v in figure.data[key] if v is not None]
    if key == "status":
        return "status"
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, str) and period_date(v) for v in present):
        return "period"
    if not present or not all(isinstance(v, int | float) and not isinstance(v, bool)
                              for v in present):
        return None
    if key in _COUNT_COLUMNS or key.endswith("_n"):
        return "count"
    if key in _SHARE_COLUMNS or key.endswith(" share"):
        return "percent"
    if figure.kind == "distribution":
        return "count"  # one column per category: how many responses gave it
    stem = key.rpartition("_")[0]
    metric = metrics.get(key) or metrics.get(stem) or metrics.get(figure.metric_id)
    return unit_kind(metric.unit if metric else figure.unit)


def _figure_cell(key: str, value: Any, kind: Kind | str) -> tuple[Any, Kind]:
    if value is None:
        return None, None
    if kind == "status":
        return status_text(value), None
    if kind == "period":
        return period_date(value), period_kind(value)
    if kind is None:
        return typed(value, None), None
    return typed(value, kind), kind


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in header:
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
        unique.append(name if seen[name.casefold()] == 1 else f"{name} ({seen[name.casefold()]})")
    return unique


def _ends(interval: Interval | None) -> tuple[float | None, float | None]:
    return (interval.low, interval.high) if interval is not None else (None, None)


def _change_value(delta: float | None, unit: str) -> float | None:
    # A rate's change is in percentage points, so it is stored as points, not as a fraction.
    if delta is None:
        return None
    return delta * 100 if unit in ("percent", "points") else delta
