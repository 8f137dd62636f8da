"""Native tables on slides: column widths from content, pages that fit, styled cells.

Tables are split into pages whose height fits the content area; every page repeats the
header row.  Column widths and row heights come from the cell texts measured in the
master's font, as titles are (see ``pptx_text``); a cell that would need more than ``TableData.max_lines``
lines is cut with an ellipsis so one pathological cell cannot push a table off the slide
(the speaker notes keep the full text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.slide import Slide
from pptx.util import Emu, Pt

from reportgen.render.pptx_slides import Box
from reportgen.render.pptx_text import (
    LINE_HEIGHT,
    SAFETY,
    clamp_lines,
    text_width_pt,
    wrapped_lines,
)
from reportgen.report.model.report_model import MethodNote, Theme
from reportgen.report.model.sections import Kpi, Table
from reportgen.text import status as statuses

CELL_MARGIN_X = Emu(73152)  # 0.08 in
CELL_MARGIN_Y = Emu(36576)  # 0.04 in
ALIGN = {"left": PP_ALIGN.LEFT, "right": PP_ALIGN.RIGHT, "center": PP_ALIGN.CENTER}


@dataclass(frozen=True)
class TableCell:
    """What one cell shows: text and optional text colour / fill (hex)."""

    text: str
    colour: str | None = None
    fill: str | None = None
    bold: bool = False


@dataclass(frozen=True)
class TableData:
    """A table ready to place: header labels, alignments and rows of cells."""

    headers: tuple[str, ...]
    aligns: tuple[str, ...]
    rows: tuple[tuple[TableCell, ...], ...]
    font_pt: float = 12.0
    # The smallest font the table may shrink to so it needs fewer slides.
    min_font_pt: float = 11.0
    # Minimum row height in multiples of the font size (air around one line of text).
    row_em: float = 1.8
    # Lines a cell may wrap to before it is cut with an ellipsis.
    max_lines: int = 3
    full_width: bool = False
    # Caps on how wide a column may ask to be, in characters (a long free-text column
    # should not squeeze the numbers); None means the default cap.
    max_chars: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class TablePage:
    """One slide's share of a table: the rows (cells already fitted) and their heights."""

    rows: tuple[tuple[TableCell, ...], ...]
    row_heights: tuple[int, ...]
    header_height: int
    # Full texts of the cells cut on this page (for the speaker notes).
    cut: tuple[str, ...] = ()


def tone_colour(tone: str | None, theme: Theme) -> str | None:
    """The text authority's colour of a model tone; neutral text keeps the table's own
    colour."""
    return statuses.tone_colour(tone, theme) if tone in ("good", "bad", "warning") else None


def from_table(table: Table, theme: Theme) -> TableData:
    """A model table as placed: the cell strings exactly, tones as text colours."""
    return TableData(
        headers=tuple(c.label for c in table.columns),
        aligns=tuple(c.align for c in table.columns),
        rows=tuple(tuple(TableCell(cell.text, tone_colour(cell.tone, theme)) for cell in row)
                   for row in table.rows),
    )


SCORECARD_HEADERS = ("Metric", "Value", "Change", "Significance", "Target", "Status")


def scorecard(kpis: Sequence[Kpi], theme: Theme) -> TableData:
    """The KPI scorecard: one row per KPI, the Kpi display strings exactly."""
    rows = []
    for kpi in kpis:
        # The colours are the model's (reportgen.text), as the PDF and the e-mail draw them.
        fill = kpi.status_colour or None
        rows.append((
            TableCell(kpi.metric.label, bold=True),
            TableCell(kpi.value_text, bold=True),
            TableCell(kpi.delta_text, kpi.delta_colour if kpi.delta_tone != "neutral" else None),
            TableCell(kpi.significance_text),
            TableCell(kpi.target_text),
            TableCell(kpi.status_text, "#FFFFFF" if fill else None, fill, bold=bool(fill)),
        ))
    return TableData(SCORECARD_HEADERS, ("left", "right", "right", "left", "left", "center"),
                     tuple(rows), font_pt=16.0, min_font_pt=13.0, row_em=2.2,
                     max_chars=(30, 12, 22, 28, 18, 12), full_width=True)


def methodology(notes: Sequence[MethodNote]) -> TableData:
    """The methodology appendix as a table: one row per metric."""
    rows = tuple(
        (TableCell(n.label, bold=True), TableCell(n.formula), TableCell(n.test),
         TableCell(n.n_text), TableCell("; ".join(n.suppressed) or "\u2014"))
        for n in notes
    )
    return TableData(("Metric", "Definition", "Test and interval", "n", "Suppressed"),
                     ("left",) * 5, rows, font_pt=12.0, max_chars=(20, 60, 40, 16, 36),
                     full_width=True, max_lines=10)


def column_widths(data: TableData, available: int) -> list[int]:
    """Column widths in EMU, laid out like an HTML table within ``available``.

    A column's *desired* width holds its longest text on one line; its *natural* width
    caps that (``max_chars``) so one free-text column cannot squeeze the numbers; its
    *minimum* holds its longest word and short texts such as "n = 835" whole.  When
    everything fits on one line the table keeps its desired widths plus some air (or fills
    the width, for ``full_width``); otherwise wrapping columns share what is left.
    """
    desired, naturals, minimums = [], [], []
    for i, header in enumerate(data.headers):
        texts = [row[i].text for row in data.rows if i < len(row)]
        bold = any(row[i].bold for row in data.rows if i < len(row))
        cap = (data.max_chars[i] if i < len(data.max_chars) else None) or 45
        header_span = max((_span(line, data.font_pt, True) for line in header.split("\n")),
                          default=0)
        longest = max((_span(t, data.font_pt, bold) for t in texts), default=0)
        capped = max((_span(t[:cap], data.font_pt, bold) for t in texts), default=0)
        # Short texts ("n = 835", "79.0%") must never break; long ones may wrap at words.
        unbreakable = [t if len(t) <= 12 else w for t in texts for w in (t.split() or [""])]
        header_words = header.split() or [""]
        desired.append(max(header_span, longest))
        naturals.append(max(header_span, capped))
        minimum = max(max(_span(w, data.font_pt, True) for w in header_words),
                      max((_span(w, data.font_pt, bold) for w in unbreakable), default=0))
        minimums.append(min(minimum, naturals[-1]))
    if sum(desired) <= available:
        wanted = sum(desired)
        target = available if data.full_width else min(available, max(wanted * 1.3,
                                                                       available * 0.5))
        widths = [d * target / wanted for d in desired]
    elif sum(naturals) <= available:
        spare = available - sum(naturals)
        grow = [d - n for d, n in zip(desired, naturals, strict=True)]
        widths = [n + spare * g / sum(grow) for n, g in zip(naturals, grow, strict=True)]
    elif sum(minimums) >= available:  # pathological: even single words do not fit
        widths = [m * available / sum(minimums) for m in minimums]
    else:
        spare = available - sum(minimums)
        flex = [n - m for n, m in zip(naturals, minimums, strict=True)]
        widths = [m + spare * f / sum(flex) for m, f in zip(minimums, flex, strict=True)]
    return [int(w) for w in widths]


def _span(text: str, font_pt: float, bold: bool) -> int:
    """Width ``text`` needs on one line of a cell, margins included, in EMU.

    One "n" of slack on top of the measured width: renderers round glyph advances
    differently, and a short number must never break.
    """
    width_pt = text_width_pt(text + "n", font_pt, bold=bold) / SAFETY
    return int(Pt(width_pt)) + 2 * int(CELL_MARGIN_X)


def _row_height(texts: Sequence[str], widths: Sequence[int], font_pt: float, bold: bool,
                row_em: float = 1.8) -> int:
    lines = 1
    for text, width in zip(texts, widths, strict=False):
        inner = max(1, width - 2 * CELL_MARGIN_X)
        lines = max(lines, wrapped_lines(text, inner, font_pt, bold=bold))
    height = Pt(lines * font_pt * LINE_HEIGHT) + 2 * CELL_MARGIN_Y
    return max(int(height), int(Pt(font_pt * row_em)))


def _fit_cell(cell: TableCell, width: int, font_pt: float, max_lines: int) -> TableCell:
    text = clamp_lines(cell.text, width - 2 * CELL_MARGIN_X, font_pt, max_lines, bold=cell.bold)
    return cell if text == cell.text else TableCell(text, cell.colour, cell.fill, cell.bold)


def paginate(data: TableData, widths: Sequence[int], height: int) -> list[TablePage]:
    """Split rows into pages that fit ``height`` (header repeated on each page)."""
    header_h = _row_height(data.headers, widths, data.font_pt, True)
    fitted = [tuple(_fit_cell(c, w, data.font_pt, data.max_lines)
                    for c, w in zip(row, widths, strict=False))
              for row in data.rows]
    heights = [_row_height([c.text for c in row], widths, data.font_pt,
                           any(c.bold for c in row),
                           data.row_em) for row in fitted]

    def greedy(max_rows: int) -> list[list[int]]:
        pages: list[list[int]] = [[]]
        used = header_h
        for i, row_h in enumerate(heights):
            full = len(pages[-1]) >= max_rows or used + row_h > height
            if pages[-1] and full:
                pages.append([])
                used = header_h
            pages[-1].append(i)
            used += row_h
        return pages

    pages = greedy(len(fitted) or 1)
    if len(pages) > 1:
        # Even out the pages (5 x 12 rows reads better than 4 x 14 + 4).
        pages = greedy(math.ceil(len(fitted) / len(pages)))
    return [TablePage(tuple(fitted[i] for i in page), tuple(heights[i] for i in page), header_h,
                      tuple(original.text for i in page
                            for original, shown in zip(data.rows[i], fitted[i], strict=False)
                            if original.text != shown.text))
            for page in pages]


def plan(data: TableData, available: Box) -> tuple[TableData, list[int], list[TablePage]]:
    """Font size, column widths and pages for a table placed in ``available``.

    A table that almost fits one slide is set a point or two smaller rather than split
    (a "(cont.)" slide holding two rows helps nobody); a table that needs several slides
    anyway keeps its full size.
    """
    widths = column_widths(data, available.width)
    pages = paginate(data, widths, available.height)
    size = data.font_pt - 1
    while len(pages) > 1 and size >= data.min_font_pt:
        smaller = replace(data, font_pt=size)
        smaller_widths = column_widths(smaller, available.width)
        smaller_pages = paginate(smaller, smaller_widths, available.height)
        if len(smaller_pages) == 1:
            return smaller, smaller_widths, smaller_pages
        size -= 1
    return data, widths, pages


def page_height(page: TablePage) -> int:
    """Estimated height of a placed page (rows grow only beyond these estimates)."""
    return page.header_height + sum(page.row_heights)


def add_table(slide: Slide, box: Box, data: TableData, widths: Sequence[int], page: TablePage):
    """Place one page of a table at the top left of ``box``; return the graphic frame."""
    n_rows, n_cols = len(page.rows) + 1, len(data.headers)
    total_h = page_height(page)
    frame = slide.shapes.add_table(n_rows, n_cols, Emu(box.left), Emu(box.top),
                                   Emu(sum(widths)), Emu(total_h))
    table = frame.table
    table.first_row = True
    table.horz_banding = True
    for i, width in enumerate(widths):
        table.columns[i].width = width
    table.rows[0].height = page.header_height
    for i, header in enumerate(data.headers):
        _fill_cell(table.cell(0, i), TableCell(header, bold=True), data.aligns[i], data.font_pt)
    for r, (row, row_h) in enumerate(zip(page.rows, page.row_heights, strict=True), start=1):
        table.rows[r].height = row_h
        for c in range(n_cols):
            cell = row[c] if c < len(row) else TableCell("")
            _fill_cell(table.cell(r, c), cell, data.aligns[c], data.font_pt)
    return frame


def _fill_cell(target, cell: TableCell, align: str, font_pt: float) -> None:
    target.margin_left = target.margin_right = CELL_MARGIN_X
    target.margin_top = target.margin_bottom = CELL_MARGIN_Y
    target.vertical_anchor = MSO_ANCHOR.MIDDLE
    frame = target.text_frame
    frame.word_wrap = True
    frame.text = cell.text
    for paragraph in frame.paragraphs:
        paragraph.alignment = ALIGN.get(align, PP_ALIGN.LEFT)
        # An empty cell has no run to carry the size; without this its empty line takes
        # the 18 pt default and the row grows past its planned height.
        paragraph._p.get_or_add_endParaRPr().set("sz", str(int(font_pt * 100)))
        for run in paragraph.runs:
            run.font.size = Pt(font_pt)
            run.font.bold = cell.bold
            if cell.colour:
                run.font.color.rgb = RGBColor.from_string(cell.colour.lstrip("#").upper())
    if cell.fill:
        target.fill.solid()
        target.fill.fore_color.rgb = RGBColor.from_string(cell.fill.lstrip("#").upper())
