"""The XLSX appendix: every table and every chart's data as typed cells, one sheet each.

An analyst opens the workbook to re-cut what the PDF shows, so nothing here is text that
was a number: rates are fractions with a percent format, counts are integers, periods are
dates.  Every sheet has one header row, frozen, with a filter; nothing is cut to a row
limit (a sheet larger than Excel allows is an error, not a silent truncation).  The first
sheet, ``Contents``, says what the workbook is, where its numbers came from and links to
every other sheet.  Like every renderer, it places the model: it computes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet

from reportgen import text
from reportgen.errors import RenderError
from reportgen.render.files import write_atomically
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import Artifact, ReportModel
from reportgen.report.model.sections import Figure, Table

#: Excel's limits: rows per sheet and characters per sheet name.
MAX_ROWS = 1_048_576
MAX_SHEET_NAME = 31

#: Excel number formats per unit, for values and for signed changes.
NUMBER_FORMATS: Mapping[str, str] = {
    "percent": "0.0%", "score": "0.0", "count": "#,##0", "seconds": "#,##0",
    "minutes": "#,##0.0", "hours": "#,##0.0", "ratio": "0.00", "number": "#,##0.##",
    "points": '+0.0" pts";-0.0" pts";0.0" pts"',
}
CHANGE_FORMATS: Mapping[str, str] = {
    "percent": '+0.0" pts";-0.0" pts";0.0" pts"', "score": '+0.0" pts";-0.0" pts";0.0" pts"',
    "count": "+#,##0;-#,##0;0", "seconds": "+#,##0;-#,##0;0",
    "minutes": "+0.0;-0.0;0.0", "hours": "+0.0;-0.0;0.0", "ratio": "+0.00;-0.00;0.00",
    "number": "+0.##;-0.##;0", "points": '+0.0" pts";-0.0" pts";0.0" pts"',
}
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "mmm yyyy"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_LINK_FONT = Font(color="0563C1", underline="single")
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
_QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")
_DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNT_COLUMNS = re.compile(r"^(n|count|.*_n|.*_count|previous_n)$")


def render_xlsx(model: ReportModel, out_path: Path) -> Artifact:
    """Write the workbook for ``model`` at ``out_path``, atomically."""
    workbook = build_workbook(model)

    def write(tmp: Path) -> None:
        workbook.save(tmp)

    return write_atomically(Path(out_path), "xlsx", write)


def build_workbook(model: ReportModel) -> Workbook:
    """The workbook as an openpyxl object (nothing written yet)."""
    workbook = Workbook()
    contents = workbook.active
    assert contents is not None
    contents.title = "Contents"
    names = SheetNames(reserved=("Contents",))
    listed: list[tuple[str, str, str, int]] = []  # sheet, kind, title, data rows

    def add(kind: str, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
            formats: Sequence[Sequence[str | None]], freeze: str = "A2") -> None:
        if len(rows) + 1 > MAX_ROWS:
            raise RenderError(f"xlsx: {kind} '{title}' has {len(rows):,} rows, more than the "
                              f"{MAX_ROWS - 1:,} an Excel sheet holds")
        name = names.claim(title)
        write_sheet(workbook.create_sheet(name), header, rows, formats, freeze)
        listed.append((name, kind, title, len(rows)))

    header, rows, formats = metric_rows(model.metrics.values())
    add("metrics", "Metrics", header, rows, formats, freeze="B2")
    header, rows, formats = history_rows(model.metrics.values())
    add("metric history", "History", header, rows, formats, freeze="C2")
    findings = [(f.metric_id, f.scope, f.sentence, f.direction or "", f.severity)
                for f in model.findings]
    add("findings", "Key findings", ("Metric", "Scope", "Finding", "Direction", "Severity"),
        findings, [(None, None, None, None, "0.00")] * len(findings))
    for section in model.sections:
        for table in section.tables:
            header, rows, formats = table_rows(table)
            add("table", table.title, header, rows, formats, freeze="B2")
        for figure in section.figures:
            header, rows, formats = figure_rows(figure)
            add("chart data", figure.title, header, rows, formats)
    write_contents(contents, model, listed)
    stamp = _naive_utc(model.generated_at)
    workbook.properties.creator = f"reportgen {model.provenance.code_version}"
    workbook.properties.title = f"{model.title} — {model.period.label}"
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    return workbook


class SheetNames:
    """Unique Excel sheet names (case-insensitive, at most 31 characters, no []:*?/\\)."""

    def __init__(self, reserved: Iterable[str] = ()):
        self._taken = {name.casefold() for name in reserved}

    def claim(self, title: str) -> str:
        base = _FORBIDDEN.sub("-", title).strip().strip("'") or "Sheet"
        candidate = _cut(base, MAX_SHEET_NAME)
        number = 2
        while candidate.casefold() in self._taken:
            suffix = f" ({number})"
            candidate = _cut(base, MAX_SHEET_NAME - len(suffix)) + suffix
            number += 1
        self._taken.add(candidate.casefold())
        return candidate


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# ---------- rows ----------


Rows = tuple[list[str], list[list[Any]], list[list[str | None]]]


def metric_rows(metrics: Iterable[MetricResult]) -> Rows:
    """One row per metric: value, interval, previous value, change and its test, target."""
    header = ["Metric", "Id", "Unit", "Value", "CI low", "CI high", "n", "Previous",
              "Change", "Test", "p-value", "Significant", "Target", "Status", "Suppressed"]
    rows: list[list[Any]] = []
    formats: list[list[str | None]] = []
    for m in metrics:
        change = m.change
        value_format = NUMBER_FORMATS.get(m.unit)
        rows.append([
            m.label, m.metric_id, m.unit, None if m.suppressed else m.value,
            m.interval.low if m.interval else None, m.interval.high if m.interval else None,
            m.n, change.previous if change else None, _change_value(change.delta if change else None, m.unit),
            change.test if change else None, change.p_value if change else None,
            change.significant if change and change.test else None, m.target,
            (m.status or "").replace("_", " ") or None, m.suppressed,
        ])
        formats.append([None, None, None, value_format, value_format, value_format, "#,##0",
                        value_format, CHANGE_FORMATS.get(m.unit), None, "0.0000", None,
                        value_format, None, None])
    return header, rows, formats


def history_rows(metrics: Iterable[MetricResult]) -> Rows:
    """Every metric's value per period of its history, the period as a date."""
    header = ["Metric", "Period", "Period start", "Value", "CI low", "CI high", "n", "Suppressed"]
    rows: list[list[Any]] = []
    formats: list[list[str | None]] = []
    for m in metrics:
        value_format = NUMBER_FORMATS.get(m.unit)
        for point in m.history:
            rows.append([m.label, point.period, point.start, point.value,
                         point.interval.low if point.interval else None,
                         point.interval.high if point.interval else None, point.n,
                         point.suppressed])
            formats.append([None, None, DATE_FORMAT, value_format, value_format, value_format,
                            "#,##0", None])
    return header, rows, formats


def table_rows(table: Table) -> Rows:
    """A model table with numbers where the model has them and its text elsewhere."""
    header = [column.label for column in table.columns]
    rows: list[list[Any]] = []
    formats: list[list[str | None]] = []
    for row in table.rows:
        values: list[Any] = []
        row_formats: list[str | None] = []
        for column, cell in zip(table.columns, row, strict=False):
            number = cell.value if isinstance(cell.value, int | float) else None
            if number is None and column.unit is not None and cell.text in ("", text.MISSING):
                values.append(None)  # a withheld number stays an empty cell in a numeric column
                row_formats.append(None)
            elif number is None or column.unit is None:
                values.append(cell.text if cell.text else None)
                row_formats.append(None)
            elif column.key == "change":
                values.append(_change_value(float(number), column.unit))
                row_formats.append(CHANGE_FORMATS.get(column.unit))
            else:
                values.append(number)
                row_formats.append(NUMBER_FORMATS.get(column.unit))
        rows.append(values)
        formats.append(row_formats)
    return header, rows, formats


def figure_rows(figure: Figure) -> Rows:
    """The data a chart drew, one column per series, typed by the chart's metric unit."""
    columns = list(figure.data)
    length = max((len(v) for v in figure.data.values()), default=0)
    short = [c for c in columns if len(figure.data[c]) != length]
    if short:
        raise RenderError(f"xlsx: chart '{figure.id}' data columns differ in length "
                          f"({', '.join(short)} has fewer than {length} values)")
    kinds = {c: _column_kind(c, figure.data[c], figure.unit) for c in columns}
    rows: list[list[Any]] = []
    formats: list[list[str | None]] = []
    for i in range(length):
        row: list[Any] = []
        row_formats: list[str | None] = []
        for c in columns:
            value, number_format = _typed(figure.data[c][i], kinds[c])
            row.append(value)
            row_formats.append(number_format)
        rows.append(row)
        formats.append(row_formats)
    return columns, rows, formats


def _column_kind(name: str, values: Sequence[Any], unit: str | None) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, str) and _period_date(v) for v in present):
        return "period"
    if not present or not all(isinstance(v, int | float) and not isinstance(v, bool)
                              for v in present):
        return "raw"
    if _COUNT_COLUMNS.match(name.lower()) or all(isinstance(v, int) for v in present):
        return "count"
    if "share" in name.lower():
        return "percent"
    return unit or "number"


def _typed(value: Any, kind: str) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if kind == "period":
        return _period_date(value), MONTH_FORMAT if _MONTH_KEY.match(value) else DATE_FORMAT
    if kind == "raw":
        if isinstance(value, datetime):
            return _naive_utc(value), DATETIME_FORMAT
        if isinstance(value, date):
            return value, DATE_FORMAT
        if isinstance(value, bool | int | float | str):
            return value, None
        return str(value), None
    if isinstance(value, float) and value != value:  # NaN: an empty cell, not an error value
        return None, None
    if kind == "points":  # a difference of rates is stored as points, as changes are
        return value * 100, NUMBER_FORMATS[kind]
    return value, NUMBER_FORMATS.get(kind, "General")


def _period_date(key: str) -> date | None:
    """The first day of a period key (``2026-09``, ``2026-W37``, ``2026-Q3``, ``2026-09-14``)."""
    if match := _MONTH_KEY.match(key):
        return date(int(match[1]), int(match[2]), 1)
    if match := _WEEK_KEY.match(key):
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    if match := _QUARTER_KEY.match(key):
        return date(int(match[1]), 3 * int(match[2]) - 2, 1)
    if _DAY_KEY.match(key):
        try:
            return date.fromisoformat(key)
        except ValueError:
            return None
    return None


def _change_value(delta: float | None, unit: str) -> float | None:
    # A rate's change is in percentage points, so it is stored as points, not as a fraction.
    if delta is None:
        return None
    return delta * 100 if unit in ("percent", "points") else delta


def _naive_utc(moment: datetime) -> datetime:
    # Excel has no time zones: store UTC, and say so in the header.
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# ---------- sheets ----------


def write_sheet(sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]],
                formats: Sequence[Sequence[str | None]], freeze: str) -> None:
    """A header row (frozen, filtered) and the typed rows below it."""
    sheet.append(list(header))
    fill = PatternFill("solid", fgColor="1F3A5F")
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    widths = [len(str(h)) for h in header]
    for values, row_formats in zip(rows, formats, strict=True):
        sheet.append(list(values))
        for index, (value, number_format) in enumerate(zip(values, row_formats, strict=True)):
            if number_format and value is not None:
                sheet.cell(row=sheet.max_row, column=index + 1).number_format = number_format
            if index < len(widths):
                widths[index] = max(widths[index], min(len(_shown(value)), 60))
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(8, width + 2)
    sheet.freeze_panes = freeze
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return text.decimal(value, 2)
    return "" if value is None else str(value)


def write_contents(sheet: Worksheet, model: ReportModel,
                   listed: Sequence[tuple[str, str, str, int]]) -> None:
    """What the workbook is, its provenance, and a linked list of its sheets."""
    provenance = model.provenance
    sheet.append([model.title])
    sheet["A1"].font = _TITLE_FONT
    sheet.append([f"{model.organisation} · {model.period.label} · {model.period.date_range}"
                  if model.organisation else f"{model.period.label} · {model.period.date_range}"])
    sheet.append([])
    facts: list[tuple[str, Any, str | None]] = [
        ("Report", model.report_id, None),
        ("Period", provenance.period, None),
        ("Period start", model.period.start, DATE_FORMAT),
        ("Period end (exclusive)", model.period.end, DATE_FORMAT),
        ("Time zone", model.period.timezone, None),
        ("Generated (UTC)", _naive_utc(provenance.generated_at), DATETIME_FORMAT),
        ("Code version", provenance.code_version, None),
        ("Definition hash", provenance.definition_hash, None),
        ("Locale of the report's text", model.locale, None),
    ]
    for label, value, number_format in facts:
        sheet.append([label, value])
        sheet.cell(row=sheet.max_row, column=1).font = _BOLD
        if number_format:
            sheet.cell(row=sheet.max_row, column=2).number_format = number_format
    sheet.append([])
    sheet.append(["Input", "Content hash", "Rows in the period"])
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
    for name in list(provenance.input_hashes) + [n for n in provenance.row_counts
                                                  if n not in provenance.input_hashes]:
        sheet.append([name, provenance.input_hashes.get(name), provenance.row_counts.get(name)])
        sheet.cell(row=sheet.max_row, column=3).number_format = "#,##0"
    sheet.append([])
    sheet.append(["Data quality"])
    sheet.cell(row=sheet.max_row, column=1).font = _BOLD
    for note in provenance.quality_lines:
        sheet.append([note])
    sheet.append([])
    sheet.append(["Sheet", "Contents", "Title", "Rows"])
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
    for name, kind, title, count in listed:
        sheet.append([name, kind, title, count])
        link = sheet.cell(row=sheet.max_row, column=1)
        link.hyperlink = f"#{quote_sheetname(name)}!A1"
        link.font = _LINK_FONT
        sheet.cell(row=sheet.max_row, column=4).number_format = "#,##0"
    sheet.append([])
    sheet.append(["Rates are stored as fractions with a percent format; changes of rates and "
                  "scores are in points; periods are dates (their first day); times are UTC."])
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 66
    sheet.column_dimensions["C"].width = 40
