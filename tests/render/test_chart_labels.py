"""Data labels on native charts: placed clear of whiskers, lines and each other, where a
chart application really draws them.

The collision count reads the chart's own XML (plot layout, axis bounds, label positions
and fonts); LibreOffice's PDF of the same slide shows the labels where that reading says,
so the count is about the chart as drawn, not about the renderer's intentions.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pdfplumber
import pytest
from lxml import etree
from pptx import Presentation
from pptx.util import Emu
from support.factories import sample_model
from support.libreoffice import convert_to_pdf, soffice_binary

from reportgen.render.pptx_chart_geometry import collisions, labels, read_geometry
from reportgen.render.pptx_deck import render_pptx
from reportgen.report.model.sections import NativeChart, Series

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
# Short bars with wide intervals crossing a target line: every usual place is taken once.
CROWDED = NativeChart(
    chart_type="column", categories=("Spam", "Hate speech", "Adult", "Violence", "Fraud"),
    number_format="0%",
    series=(Series("Overturn rate", (0.05, 0.14, 0.15, 0.19, 0.22),
                   low=(0.02, 0.07, 0.08, 0.10, 0.14), high=(0.12, 0.25, 0.27, 0.35, 0.33)),
            Series("Target", (0.20,) * 5, role="target")))


def deck_with(native: NativeChart, out: Path):
    base = sample_model()
    figure = dataclasses.replace(base.sections[0].figures[0], title="Labelled", native=native)
    model = dataclasses.replace(base, sections=(
        dataclasses.replace(base.sections[0], figures=(figure,), findings=(), tables=()),))
    render_pptx(model, out)
    prs = Presentation(str(out))
    slide = next(s for s in prs.slides if s.shapes.title.text == "Labelled")
    frame = next(s for s in slide.shapes if s.has_chart)
    return prs, slide, frame


def frame_size(frame) -> tuple[float, float]:
    return Emu(frame.width).pt, Emu(frame.height).pt


def test_every_value_is_labelled_and_no_label_touches_a_whisker_or_the_target(
        tmp_path: Path) -> None:
    _, _, frame = deck_with(CROWDED, tmp_path / "deck.pptx")
    space = frame.chart._chartSpace
    geometry = read_geometry(space, *frame_size(frame))
    assert geometry is not None  # the plot's layout is fixed, so labels land where placed
    shown = labels(space, geometry)
    assert [label.text for label in shown] == ["5%", "14%", "15%", "19%", "22%"]
    assert collisions(space, *frame_size(frame)) == []
    # The shortest bar's label cannot sit in, on or just above the bar: its whisker runs
    # through all three, so the label goes above the whisker's top.
    spam = shown[0]
    top_of_whisker = geometry.at(0.12)
    assert spam.box.y1 <= top_of_whisker


def test_the_collision_count_sees_labels_laid_over_whiskers(tmp_path: Path) -> None:
    """Labels all put inside the bar ends (as the deck did before) are caught."""
    _, _, frame = deck_with(CROWDED, tmp_path / "deck.pptx")
    space = frame.chart._chartSpace
    for d_lbl in space.iter(f"{C}dLbl"):
        for layout in d_lbl.findall(f"{C}layout"):
            d_lbl.remove(layout)
        position = d_lbl.find(f"{C}dLblPos")
        if position is not None:
            position.set("val", "inEnd")
    found = collisions(space, *frame_size(frame))
    assert any("whisker" in problem for problem in found)
    assert any("Target" in problem for problem in found)


@pytest.mark.skipif(not soffice_binary(), reason="LibreOffice is not installed")
def test_libreoffice_draws_each_label_where_the_geometry_puts_it(tmp_path: Path) -> None:
    """The labels LibreOffice prints sit in the boxes the collision count measured."""
    path = tmp_path / "deck.pptx"
    prs, slide, frame = deck_with(CROWDED, path)
    space = frame.chart._chartSpace
    expected = labels(space, read_geometry(space, *frame_size(frame)))
    number = list(prs.slides).index(slide)
    with pdfplumber.open(convert_to_pdf(path, tmp_path)) as pdf:
        page = pdf.pages[number]
        scale = float(page.width) / Emu(prs.slide_width).pt
        words = page.extract_words()
    left, top = Emu(frame.left).pt, Emu(frame.top).pt
    for label in expected:
        centre = ((label.box.x0 + label.box.x1) / 2 + left,
                  (label.box.y0 + label.box.y1) / 2 + top)
        drawn = [((w["x0"] + w["x1"]) / 2 / scale, (w["top"] + w["bottom"]) / 2 / scale)
                 for w in words if w["text"] == label.text]
        assert drawn, label.text
        nearest = min(abs(x - centre[0]) + abs(y - centre[1]) for x, y in drawn)
        assert nearest < 6.0, (label.text, label.position, centre, drawn)


def test_a_tolerance_band_is_drawn_behind_horizontal_bars(tmp_path: Path) -> None:
    native = NativeChart(
        chart_type="bar", categories=("AU07", "AU05", "AU01"), number_format='+0.0;"−"0.0;0.0',
        series=(Series("Tolerance ±5.0", (5.0,) * 3, role="band", colour="#DDDDDD"),
                Series("Bias", (6.0, 3.2, -1.3), highlight=(0,))),
        y_min=-7.0, y_max=7.0)
    _, _, frame = deck_with(native, tmp_path / "deck.pptx")
    space = frame.chart._chartSpace
    bar = space.find(f".//{C}barChart")
    assert bar.find(f"{C}barDir").get("val") == "bar"
    assert bar.find(f"{C}overlap").get("val") == "100"  # the band lies behind, not beside
    values = [[float(v) for v in etree.XPath(".//c:val//c:v/text()", namespaces={
        "c": C[1:-1]})(ser)] for ser in bar.findall(f"{C}ser")]
    assert values == [[5.0] * 3, [-5.0] * 3, [6.0, 3.2, -1.3]]  # band first: drawn under
    assert [label.text for label in labels(space, read_geometry(space, *frame_size(frame)))] \
        == ["+6.0", "+3.2", "−1.3"]
    assert collisions(space, *frame_size(frame)) == []
    # The legend names the band once.
    assert len(space.findall(f".//{C}legend/{C}legendEntry")) == 1
