"""The readout's outputs read back: an empty source, the deck's colours, chart labels and
the Wins/Risks slides that replace a repeated key-findings slide."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pdfplumber
import pytest
from pptx import Presentation
from pptx.util import Emu
from support.demo_models import demo_model
from support.paths import REPO

from reportgen.cli import main
from reportgen.render.pptx_deck import render_pptx
from reportgen.render.pptx_tables import SCORECARD_HEADERS

#: A data value written like a code (``hate_speech``, ``policy_area``).
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
EMPTY_QUERY = "and policy_area = 'no such area'"


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _empty_moderation_definition(root: Path, demo_dir: Path) -> Path:
    """The example MQR with the moderation source empty for every period, rendered as PDF
    and deck, without the gates (their clock is today's, the demo's data is older)."""
    (root / "configs").mkdir(parents=True)
    (root / "out").mkdir()
    (root / "out" / "demo").symlink_to(demo_dir, target_is_directory=True)
    body = (REPO / "configs" / "monthly_quality_report.yaml").read_text(encoding="utf-8")
    query = "from decisions where decided_at >= $start and decided_at < $end"
    assert query in body
    body = body.replace(query, f"{query} {EMPTY_QUERY}")
    lines = body.splitlines()
    kept: list[str] = []
    skipping = False
    for line in lines:
        if line in ("outputs:", "gates:"):
            skipping = True
            if line == "outputs:":
                kept += ["outputs:", "  - format: pdf", "  - format: pptx"]
            continue
        if skipping and (line.startswith(" ") or not line.strip()):
            continue
        skipping = False
        kept.append(line)
    path = root / "configs" / "mqr.yaml"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def test_a_source_empty_for_the_whole_window_gives_no_data_panels(
        demo_dir: Path, tmp_path: Path) -> None:
    config = _empty_moderation_definition(tmp_path / "def", demo_dir)
    out = tmp_path / "out"
    assert main(["run", str(config), "--period", "2026-09", "--out", str(out)]) == 0
    (pdf,) = out.rglob("*.pdf")
    (deck_path,) = out.rglob("*.pptx")
    with pdfplumber.open(pdf) as document:
        text = _plain(" ".join(page.extract_text() or "" for page in document.pages))
    assert "Trust & Safety decision quality" in text
    assert "No data for Appeal overturn rate" in text  # the chart's panel, not an error
    assert "CSAT" in text and "Executive summary" in text  # the rest of the report is there
    deck = Presentation(str(deck_path))
    said = " ".join(
        " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
        + " " + slide.notes_slide.notes_text_frame.text for slide in deck.slides)
    assert "No data for Appeal overturn rate" in _plain(said)


@pytest.fixture(scope="module")
def qbr(demo_dir: Path):
    return demo_model(demo_dir, "qbr.yaml", "2026-Q3")


def test_the_deck_colours_statuses_and_changes_as_the_model_says(qbr, tmp_path: Path) -> None:
    """The deck draws the text authority's colours carried by the model, not its own: a
    colour changed in the model is the colour on the slide."""
    kpis = list(qbr.summary_kpis)
    index = next(i for i, k in enumerate(kpis) if k.status_text and k.delta_tone != "neutral")
    kpis[index] = dataclasses.replace(kpis[index], status_colour="#123456",
                                      delta_colour="#654321")
    model = dataclasses.replace(qbr, summary_kpis=tuple(kpis))
    deck = Presentation(str(render_pptx(model, tmp_path / "qbr.pptx").path))
    slide = next(s for s in deck.slides
                 if s.shapes.title is not None and s.shapes.title.text == "KPI scorecard")
    table = next(sh for sh in slide.shapes if sh.has_table).table
    row = index + 1
    status = table.cell(row, SCORECARD_HEADERS.index("Status"))
    change = table.cell(row, SCORECARD_HEADERS.index("Change"))
    assert status.text == kpis[index].status_text
    assert str(status.fill.fore_color.rgb) == "123456"
    assert str(change.text_frame.paragraphs[0].runs[0].font.color.rgb) == "654321"


def _chart_labels(deck) -> list[str]:
    labels: list[str] = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_chart:
                plot = shape.chart.plots[0]
                labels += [str(c) for c in plot.categories]
                labels += [s.name for p in shape.chart.plots for s in p.series]
                for axis in (shape.chart.category_axis, shape.chart.value_axis):
                    if axis.has_title:
                        labels.append(axis.axis_title.text_frame.text)
    return labels


def test_no_chart_label_is_written_like_a_code(demo_mqr, demo_qbr_outputs: Path) -> None:
    """``hate_speech`` reads ``Hate speech`` on the PDF's charts and the deck's."""
    mqr, pages = demo_mqr
    raw = {k for r in mqr.metrics["overturn_rate"].breakdowns["policy_area"] for k in r.key}
    assert "hate_speech" in raw  # the data has code-like values to humanise
    appendix = next(i for i, page in enumerate(pages)
                    if i > 0 and "Methodology and provenance" in page and "Definition" in page)
    body = " ".join(pages[1:appendix])  # the cover and the appendix name columns as data
    assert "Hate speech" in body
    assert SNAKE.findall(body) == []
    deck = Presentation(str(next(demo_qbr_outputs.rglob("*.pptx"))))
    labels = _chart_labels(deck)
    assert "Hate speech" in labels and "Chat" in labels
    assert [label for label in labels if SNAKE.search(label)] == []


def test_wins_and_risks_tell_the_key_findings_once(qbr, tmp_path: Path) -> None:
    deck = Presentation(str(render_pptx(qbr, tmp_path / "qbr.pptx").path))
    titles = [s.shapes.title.text for s in deck.slides if s.shapes.title is not None]
    assert "Key findings" not in titles
    assert titles.index("Wins") < titles.index("Risks") < titles.index("Initiatives")
    agenda = next(s for s in deck.slides if s.shapes.title is not None
                  and s.shapes.title.text == "Agenda")
    assert agenda.placeholders[1].text_frame.paragraphs[0].text == \
        "Scorecard, wins, risks, initiatives and asks"
    bullets = [p.text for s in deck.slides if s.shapes.title is not None
               and s.shapes.title.text in ("Wins", "Risks")
               for p in s.placeholders[1].text_frame.paragraphs if p.text]
    assert len(bullets) == len(set(bullets))
    for finding in qbr.findings:  # every headline finding is on one of the two, once
        if finding.tone in ("good", "bad", "warning"):
            # a finished action and the win it explains are told as one statement
            lead = finding.sentence.split(": ")[0]
            assert sum(b.startswith(lead) for b in bullets) == 1, finding.sentence


def test_every_text_box_of_the_demo_deck_is_on_the_slide(qbr, tmp_path: Path) -> None:
    deck = Presentation(str(render_pptx(qbr, tmp_path / "qbr.pptx").path))
    width, height = Emu(deck.slide_width), Emu(deck.slide_height)
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if shape.left is None:
                continue
            assert shape.left >= 0 and shape.top >= 0, (number, shape.name)
            assert shape.left + shape.width <= width, (number, shape.name)
            assert shape.top + shape.height <= height, (number, shape.name)


def test_a_lone_section_kpi_heads_the_chart_about_it(qbr, tmp_path: Path) -> None:
    """Calibration deviation heads the auditor-bias chart, not the QA score trend."""
    deck = Presentation(str(render_pptx(qbr, tmp_path / "qbr.pptx").path))
    # Chart slides are titled with their message; the chart frame names the figure.
    strips = {chart.name.removeprefix("Chart "): sh.text_frame.text for s in deck.slides
              for chart in s.shapes if chart.has_chart
              for sh in s.shapes if sh.name == "KPI"}
    assert strips["calibration_chart"].startswith("Calibration deviation:")
    assert strips["overturns"].startswith("Appeal overturn rate:")
    assert "qa_trend" not in strips
