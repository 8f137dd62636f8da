"""Long text in tables and labels is cut with an ellipsis and a footnote, never run off
the page or the slide: read back from the PDF (pdfplumber) and the deck (python-pptx)."""

from __future__ import annotations

import csv
from pathlib import Path

import pdfplumber
import pytest
from pptx import Presentation

from reportgen.cli import main
from reportgen.text import footnoted, shorten
from reportgen.text.truncate import FOOTNOTE_CHARS, LABEL_CHARS

ONE_WORD = "Q" * 100_000
MANY_WORDS = " ".join(["Escalations about refunds for annual plans"] * 40)

DEFINITION = """\
id: mqr
title: Monthly Quality Report
sources:
  csat:
    kind: csv
    path: csat.csv
    time_column: responded_at
    columns: {rating: int, queue: str}
metrics:
  - id: csat
    calculator: csat
    source: csat
    params: {column: rating}
    by: [queue]
    target: 0.8
charts:
  - id: by_queue
    type: bar
    metric: csat
    params: {by: queue}
sections:
  - id: voc
    title: Voice of the customer
    kpis: [csat]
    charts: [by_queue]
    tables:
      - {metric: csat, by: queue}
outputs:
  - {format: pdf}
  - {format: pptx}
"""


def test_shorten_cuts_at_a_word_near_the_limit_and_ends_in_an_ellipsis() -> None:
    assert shorten("Billing") == "Billing"
    cut = shorten(MANY_WORDS, 40)
    assert len(cut) <= 40 and cut.endswith("…") and MANY_WORDS.startswith(cut[:-1])
    assert cut[:-1] == cut[:-1].rstrip() and not cut[:-1].endswith(" ")
    assert shorten(ONE_WORD, 10) == "Q" * 9 + "…"


def test_footnoted_marks_each_long_text_once_and_says_its_full_length() -> None:
    shown = footnoted([[ONE_WORD, "1"], ["Billing", "2"], [ONE_WORD, "3"], [MANY_WORDS, "4"]])
    assert shown.text(0, 0).endswith("…¹") and shown.text(2, 0) == shown.text(0, 0)
    assert shown.text(1, 0) == "Billing" and shown.text(3, 0).endswith("…²")
    assert all(len(shown.text(r, 0)) <= LABEL_CHARS + 1 for r in range(4))
    first, second = shown.notes
    assert first.startswith("¹ QQQ") and "100,000 characters in all" in first
    assert len(first) < FOOTNOTE_CHARS + 60
    assert second.startswith("² Escalations about refunds")


@pytest.fixture
def long_names(tmp_path: Path) -> Path:
    with (tmp_path / "csat.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["responded_at", "rating", "queue"])
        for q, queue in enumerate(["Billing", ONE_WORD, MANY_WORDS]):
            for i in range(40):
                out.writerow([f"2026-09-{1 + i % 28:02d} 1{q}:00:00", 1 + (i + q) % 5, queue])
    (tmp_path / "report.yaml").write_text(DEFINITION, encoding="utf-8")
    return tmp_path


def test_long_segment_names_stay_inside_the_pdf_and_the_deck(long_names: Path) -> None:
    out = long_names / "out"
    assert main(["run", str(long_names / "report.yaml"), "--period", "2026-09",
                 "--out", str(out)]) == 0
    (pdf,) = out.rglob("*.pdf")
    outside: list[str] = []
    text = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            for word in page.extract_words():
                if word["x0"] < 0 or word["x1"] > page.width or word["top"] < 0 \
                        or word["bottom"] > page.height:
                    outside.append(f"page {page.page_number}: {word['text'][:40]}")
            text.append(page.extract_text() or "")
    assert not outside, outside[:10]
    joined = " ".join("\n".join(text).split())
    assert "…¹" in joined and "100,000 characters in all" in joined
    assert "Q" * 400 not in "".join(text).replace("\n", "")  # never printed in full

    (deck,) = out.rglob("*.pptx")
    prs = Presentation(str(deck))
    off_slide = []
    longest = 0
    for number, slide in enumerate(prs.slides, 1):
        for shape in slide.shapes:
            if shape.left < 0 or shape.top < 0 or shape.left + shape.width > prs.slide_width \
                    or shape.top + shape.height > prs.slide_height:
                off_slide.append(f"slide {number}: {shape.name}")
            if shape.has_table:
                for row in shape.table.rows:
                    longest = max([longest, *(len(cell.text) for cell in row.cells)])
            if shape.has_chart:
                categories = shape.chart.plots[0].categories
                longest = max([longest, *(len(str(c)) for c in categories)])
    assert not off_slide, off_slide
    assert 0 < longest <= 200  # cut to what a cell or an axis holds, not 100,000 characters
