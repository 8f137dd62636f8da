"""Data values in any script or with emoji render in the PDF, the deck and the charts.

Queue names and review titles come from people: "Billing 💳" and Arabic "الفوترة" must
reach the reader, never abort a run.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pdfplumber
import pytest
from pptx import Presentation
from pypdf import PdfReader
from support import chart_factories as f

from reportgen.cli import main

EMOJI_QUEUE = "Billing 💳"
ARABIC_QUEUE = "الفوترة"

REPORT_DEFINITION = (
    "id: glyphs\n"
    "title: Quality report\n"
    "sources:\n"
    "  csat: {kind: csv, path: csat.csv, time_column: responded_at,\n"
    "         columns: {rating: int, queue: str}}\n"
    "metrics:\n"
    "  - {id: csat, label: CSAT, calculator: csat, source: csat, params: {column: rating},\n"
    "     by: [queue], target: 0.6}\n"
    "charts:\n"
    "  - {id: by_queue, type: bar, metric: csat, title: CSAT by queue, params: {by: queue}}\n"
    "sections:\n"
    "  - {id: voc, title: Voice of the customer, kpis: [csat], charts: [by_queue],\n"
    "     tables: [{metric: csat, by: queue, title: CSAT by queue}]}\n"
    "outputs:\n"
    "  - {format: pdf}\n"
    "  - {format: pptx}\n"
)


def ratings_csv(path: Path) -> Path:
    """A month of ratings in three queues, two of them named with emoji and Arabic."""
    queues = [EMOJI_QUEUE, ARABIC_QUEUE, "Payments"]
    rows = [{"responded_at": f"2026-10-{1 + i % 28:02d} 10:00:00", "rating": 1 + (i * 7) % 5,
             "queue": queues[i % 3]} for i in range(240)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    folder = tmp_path_factory.mktemp("glyphs")
    ratings_csv(folder / "csat.csv")
    definition = folder / "report.yaml"
    definition.write_text(REPORT_DEFINITION, encoding="utf-8")
    out = folder / "out"
    code = main(["run", str(definition), "--period", "2026-10", "--out", str(out)])
    return code, out


def test_run_with_emoji_and_arabic_values_exits_0(run_outputs) -> None:
    code, out = run_outputs
    assert code == 0
    assert sorted(p.suffix for p in out.rglob("*") if p.suffix in (".pdf", ".pptx")) == [
        ".pdf", ".pptx"]


def test_pdf_shows_the_values_with_a_font_that_has_the_glyphs(run_outputs) -> None:
    _, out = run_outputs
    pdf = next(out.rglob("*.pdf"))
    with pdfplumber.open(pdf) as document:
        text = "\n".join(page.extract_text() or "" for page in document.pages)
    assert EMOJI_QUEUE in text
    # Right-to-left text may be extracted in visual order; every letter must be there.
    assert ARABIC_QUEUE in text or ARABIC_QUEUE[::-1] in text
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for page in PdfReader(pdf).pages
             for font in (page["/Resources"].get("/Font") or {}).values()}
    # The emoji is drawn from an emoji font found by per-glyph fallback, not as a box.
    assert fonts & {"Noto-Color-Emoji", "NotoColorEmoji", "Symbola"}, fonts


def test_deck_carries_the_values_in_tables_and_native_charts(run_outputs) -> None:
    _, out = run_outputs
    prs = Presentation(str(next(out.rglob("*.pptx"))))
    cells = {cell.text for slide in prs.slides for shape in slide.shapes if shape.has_table
             for row in shape.table.rows for cell in row.cells}
    categories = {c for slide in prs.slides for shape in slide.shapes if shape.has_chart
                  for c in shape.chart.plots[0].categories}
    for value in (EMOJI_QUEUE, ARABIC_QUEUE):
        assert value in cells and value in categories


def test_chart_labels_with_glyphs_no_font_has_do_not_warn_or_fail() -> None:
    rows = (f.row(EMOJI_QUEUE, 0.71, 310, half_width=0.05, status="off_target"),
            f.row(ARABIC_QUEUE, 0.83, 280, half_width=0.04),
            # A private-use character: no installed font has it; it is drawn as a box.
            f.row("Queue \ue000", 0.8, 200, half_width=0.04))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = f.build("bar", f.request(f.csat(breakdowns={"queue": rows})), {"by": "queue"})
    assert EMOJI_QUEUE in figure.svg and ARABIC_QUEUE in figure.svg
    assert figure.png.startswith(b"\x89PNG")


def test_digits_stay_in_the_text_font_with_emoji_fonts_installed(run_outputs) -> None:
    # Digits are emoji-capable characters (keycaps): an emoji font listed in the font
    # stack would take them over and print every number in wide emoji-font digits.
    _, out = run_outputs
    with pdfplumber.open(next(out.rglob("*.pdf"))) as document:
        fonts = {char["fontname"].split("+")[-1] for page in document.pages
                 for char in page.chars if char["text"].isdigit()}
    assert fonts and not any("Emoji" in name or "Symbola" in name for name in fonts), fonts


# --- values no font has, and control characters --------------------------------------------

CJK_QUEUE = "Billing 中文"
CONTROL_QUEUE = "Ops\x0b\x1b\x07desk"
PRIVATE_QUEUE = "Queue \U000f0000"  # a private-use character no font has


def has_font_for(character: str) -> bool:
    found = subprocess.run(["fc-list", f":charset={ord(character):x}", "family"],
                           capture_output=True, text=True, check=True)
    return bool(found.stdout.strip())


@pytest.fixture(scope="module")
def odd_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    folder = tmp_path_factory.mktemp("odd")
    queues = [CJK_QUEUE, CONTROL_QUEUE, PRIVATE_QUEUE]
    rows = [{"responded_at": f"2026-10-{1 + i % 28:02d} 10:00:00", "rating": 1 + (i * 7) % 5,
             "queue": queues[i % 3]} for i in range(240)]
    pd.DataFrame(rows).to_csv(folder / "csat.csv", index=False)
    definition = folder / "report.yaml"
    definition.write_text(
        (REPORT_DEFINITION.replace("id: glyphs", "id: odd")
         + "  - {format: xlsx}\n"), encoding="utf-8")
    code = main(["run", str(definition), "--period", "2026-10", "--out", str(folder / "out")])
    return code, folder / "out"


@pytest.mark.slow
def test_values_with_unknown_glyphs_and_control_characters_render_every_format(
        odd_outputs) -> None:
    code, out = odd_outputs
    assert code == 0
    assert sorted(p.suffix for p in out.rglob("*") if p.suffix in (".pdf", ".pptx", ".xlsx")) \
        == [".pdf", ".pptx", ".xlsx"]


@pytest.mark.slow
def test_the_pdf_text_reads_back_with_the_data_quality_note(odd_outputs) -> None:
    _, out = odd_outputs
    text = "\n".join(page.extract_text() for page in PdfReader(next(out.rglob("*.pdf"))).pages)
    assert "Opsdesk" in text and "\x1b" not in text and "\x07" not in text
    # 80 rows of the queue held control characters (every third of 240)
    assert "80 'queue' values with control characters" in text, text[-800:]
    # the private-use character is replaced, and the note says so
    assert not has_font_for("\U000f0000")
    assert "Queue \ufffd" in text and "U+F0000) shown as \ufffd" in text
    if has_font_for("文"):
        assert CJK_QUEUE in text
    else:
        assert "U+6587" in text and "Billing 中" in text


@pytest.mark.slow
def test_the_deck_and_workbook_carry_the_values_without_control_characters(
        odd_outputs) -> None:
    from openpyxl import load_workbook

    _, out = odd_outputs
    prs = Presentation(str(next(out.rglob("*.pptx"))))
    cells = {cell.text for slide in prs.slides for shape in slide.shapes if shape.has_table
             for row in shape.table.rows for cell in row.cells}
    assert {CJK_QUEUE, "Opsdesk", PRIVATE_QUEUE} <= cells, cells
    book = load_workbook(next(out.rglob("*.xlsx")), read_only=True)
    values = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
              for v in row if v is not None}
    assert {CJK_QUEUE, "Opsdesk", PRIVATE_QUEUE} <= values
    assert not any(c in v for v in values for c in "\x0b\x1b\x07")
