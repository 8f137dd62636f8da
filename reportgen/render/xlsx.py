"""The XLSX appendix: every table and every chart's data as typed cells, one sheet each.

An analyst opens the workbook to re-cut what the PDF shows, so nothing here is text that
was a number: rates are fractions with a percent format, counts are integers, periods are
dates, an interval is two numbers.  Every sheet has one header row in words, frozen, with a
filter; nothing is cut to a row limit (a sheet larger than Excel allows is an error, not a
silent truncation).  Sheet names are short and whole; the first sheet, ``Contents``, says
what the workbook is and where its numbers came from, and links every sheet by its full
title.  Like every renderer, it places the model: it computes nothing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from reportgen import text
from reportgen.errors import RenderError
from reportgen.render.files import write_atomically
from reportgen.render.xlsx_cells import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    column_formats,
    naive_utc,
    write_value,
)
from reportgen.render.xlsx_rows import (
    Rows,
    figure_rows,
    finding_rows,
    history_rows,
    metric_rows,
    scorecard_rows,
    scorecard_trend_rows,
    table_rows,
)
from reportgen.report.model.report_model import Artifact, ReportModel

#: Excel's limits: rows per sheet and characters per sheet name.
MAX_ROWS = 1_048_576
MAX_SHEET_NAME = 31

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_LINK_FONT = Font(color="0563C1", underline="single")
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Words a shortened sheet name may drop first, and may not end on.
_ARTICLES = frozenset({"a", "an", "the"})
_CONNECTORS = frozenset({"a", "an", "the", "and", "or", "by", "of", "for", "in", "on", "per",
                         "against", "to", "from", "with", "vs", "-", "–", "—", ","})


@dataclass(frozen=True)
class Listed:
    """A sheet as the contents list it: its name, what it holds, its full title, its rows."""

    name: str
    kind: str
    title: str
    rows: int


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
    # Excel keeps "History" for itself (change tracking) and will not open a sheet so named.
    names = SheetNames(reserved=("Contents", "History"))
    listed: list[Listed] = []

    def add(kind: str, title: str, rows: Rows, freeze: str = "A2") -> None:
        if len(rows.values) + 1 > MAX_ROWS:
            raise RenderError(f"xlsx: {kind} '{title}' has {len(rows.values):,} rows, more than "
                              f"the {MAX_ROWS - 1:,} an Excel sheet holds")
        name = names.claim(title, kind)
        write_sheet(workbook.create_sheet(name), rows, freeze)
        listed.append(Listed(name, kind, title, len(rows.values)))

    metrics = list(model.metrics.values())
    add("metrics", "Metrics", metric_rows(metrics), freeze="B2")
    add("metric history", "Metric history", history_rows(metrics), freeze="C2")
    add("findings", "Key findings", finding_rows(model.findings, model.metrics))
    card = model.scorecard
    if card is not None:
        add("scorecard", card.title, scorecard_rows(card, model.metrics), freeze="B2")
        trends = scorecard_trend_rows(card, model.metrics)
        if trends.values:
            add("scorecard trends", f"{card.title}, trends", trends, freeze="B2")
    for section in model.sections:
        for table in section.tables:
            add("table", table.title, table_rows(table), freeze="B2")
        for figure in section.figures:
            add("chart data", figure.title, figure_rows(figure, model.metrics))
    write_contents(contents, model, listed)
    stamp = naive_utc(model.generated_at)
    workbook.properties.creator = f"reportgen {model.provenance.code_version}"
    workbook.properties.title = f"{model.title} — {model.period.label}"
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    return workbook


class SheetNames:
    """Unique Excel sheet names (case-insensitive, at most 31 characters, no []:*?/\\).

    A title that fits is the name.  A longer one loses its articles, then its last words
    (never part of a word, never ending on ``by`` or ``and``); a name already taken gets
    what the sheet holds, then a number.  The contents sheet gives every full title.
    """

    def __init__(self, reserved: Iterable[str] = ()):
        self._taken = {name.casefold() for name in reserved}

    def claim(self, title: str, kind: str = "") -> str:
        clean = ILLEGAL_CHARACTERS_RE.sub("", _FORBIDDEN.sub("-", title))
        base = " ".join(clean.split()).strip("'").strip() or "Sheet"
        endings = itertools.chain([""], [f" ({kind})"] if kind else [],
                                  (f" ({number})" for number in itertools.count(2)))
        candidate = next(name for name in (shorten(base, MAX_SHEET_NAME, keep=end)
                                           for end in endings)
                         if name.casefold() not in self._taken)
        self._taken.add(candidate.casefold())
        return candidate


def shorten(title: str, width: int, keep: str = "") -> str:
    """``title`` in at most ``width`` characters (as Excel counts them, in UTF-16 units) with
    ``keep`` at its end, cut between words: articles go first, then words from the end (and
    a dangling ``by`` or ``and``)."""
    room = width - _length(keep)
    if _length(title) <= room:
        return title + keep
    words = title.split()
    if _length(" ".join(words)) > room:
        words = [w for i, w in enumerate(words) if i == 0 or w.casefold() not in _ARTICLES]
    while len(words) > 1 and (_length(" ".join(words)) > room
                              or words[-1].casefold() in _CONNECTORS):
        words.pop()
    name = " ".join(words)
    # One word longer than a sheet name holds is cut, the only case a word is.
    while _length(name) > room:
        name = name[:-1]
    return (name.rstrip() or "Sheet") + keep


def _length(name: str) -> int:
    # Excel counts a sheet name's characters in UTF-16 code units (an emoji is two).
    return len(name.encode("utf-16-le")) // 2


# ---------- sheets ----------


def write_sheet(sheet: Worksheet, rows: Rows, freeze: str) -> None:
    """A header row (frozen, filtered) and the typed rows below it."""
    for index, label in enumerate(rows.header, start=1):
        write_value(sheet.cell(row=1, column=index), label)
    fill = PatternFill("solid", fgColor="1F3A5F")
    for index, cell in enumerate(sheet[1]):
        cell.font = _HEADER_FONT
        cell.fill = fill
        # A header sits over its column's cells: right over numbers, left over text.
        numeric = any(kinds[index] is not None for kinds in rows.kinds if index < len(kinds))
        cell.alignment = Alignment(vertical="center", wrap_text=True,
                                   horizontal="right" if numeric else "left")
    widths = [min(len(str(h)), 40) for h in rows.header]
    formats = column_formats(rows.kinds, rows.values, rows.groups)
    for row_index, (values, row_formats) in enumerate(zip(rows.values, formats, strict=True),
                                                      start=2):
        for index, (value, number_format) in enumerate(zip(values, row_formats, strict=True)):
            cell = sheet.cell(row=row_index, column=index + 1)
            write_value(cell, value)
            if number_format and value is not None:
                cell.number_format = number_format
            if index < len(widths):
                widths[index] = max(widths[index], min(len(_shown(value)), 60))
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(8, width + 2)
    sheet.freeze_panes = freeze
    if rows.header:
        sheet.auto_filter.ref = (f"A1:{get_column_letter(len(rows.header))}"
                                 f"{max(1, len(rows.values) + 1)}")


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return text.decimal(value, 2)
    return "" if value is None else str(value)


def write_contents(sheet: Worksheet, model: ReportModel, listed: Sequence[Listed]) -> None:
    """What the workbook is, its provenance, and a linked list of its sheets."""
    provenance = model.provenance
    period = model.period
    _line(sheet, [model.title]).font = _TITLE_FONT
    _line(sheet, [f"{model.organisation} · {period.label} · {period.date_range}"
                  if model.organisation else f"{period.label} · {period.date_range}"])
    _line(sheet, [])
    facts: list[tuple[str, Any, str | None]] = [
        ("Report", model.report_id, None),
        ("Period", period.label, None),
        ("Period start", period.start, DATE_FORMAT),
        ("Period end (exclusive)", period.end, DATE_FORMAT),
        ("Time zone", period.timezone, None),
        ("Generated (UTC)", naive_utc(provenance.generated_at), DATETIME_FORMAT),
        ("Code version", provenance.code_version, None),
        ("Definition hash", provenance.definition_hash, None),
        ("Locale of the report's text", model.locale, None),
    ]
    for label, value, number_format in facts:
        _line(sheet, [label, value]).font = _BOLD
        if number_format:
            sheet.cell(row=sheet.max_row, column=2).number_format = number_format
    _line(sheet, [])
    _bold_line(sheet, ["Input", "Content hash", "Rows in the period"])
    for name in list(provenance.input_hashes) + [n for n in provenance.row_counts
                                                  if n not in provenance.input_hashes]:
        _line(sheet, [name, provenance.input_hashes.get(name), provenance.row_counts.get(name)])
        sheet.cell(row=sheet.max_row, column=3).number_format = "#,##0"
    _line(sheet, [])
    _bold_line(sheet, ["Data quality"])
    for note in provenance.quality_lines:
        _line(sheet, [note])
    _line(sheet, [])
    _bold_line(sheet, ["Sheet", "Contents", "Title", "Rows"])
    for entry in listed:
        _line(sheet, [entry.name, entry.kind, entry.title, entry.rows])
        for column in (1, 3):  # the name and the full title both open the sheet
            link = sheet.cell(row=sheet.max_row, column=column)
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=f"{quote_sheetname(entry.name)}!A1")
            link.font = _LINK_FONT
        sheet.cell(row=sheet.max_row, column=4).number_format = "#,##0"
    _line(sheet, [])
    _line(sheet, ["Rates are stored as fractions with a percent format; changes of rates and "
                  "scores are in points; an interval is its low and its high end; periods are "
                  "dates (their first day); times are UTC."])
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 66
    sheet.column_dimensions["C"].width = 48


def _line(sheet: Worksheet, values: Sequence[Any]) -> Any:
    """Append a row of ``values`` (text kept as text); its first cell."""
    row = sheet.max_row + 1 if sheet.max_row > 1 or sheet["A1"].value is not None else 1
    for index, value in enumerate(values, start=1):
        write_value(sheet.cell(row=row, column=index), value)
    if not values:
        sheet.cell(row=row, column=1)  # an empty row still moves the next one down
    return sheet.cell(row=row, column=1)


def _bold_line(sheet: Worksheet, values: Sequence[Any]) -> None:
    _line(sheet, values)
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
