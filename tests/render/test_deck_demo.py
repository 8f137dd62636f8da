"""The demo QBR deck as its readers get it: charts that draw what their captions say,
no one-row tables, no dividers before a lone slide, and text that fits its boxes.

The deck is the one `make demo` renders (configs/qbr.yaml for 2026-Q3 on the seeded demo
data); it is reopened with python-pptx and its chart XML read directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from PIL import ImageFont
from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.util import Emu

from reportgen.render.pptx_text import font_file

NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
C = "{" + NS["c"] + "}"
DEFAULT_INSET_X, DEFAULT_INSET_Y = 91440, 45720


@pytest.fixture(scope="module")
def deck(demo_qbr_outputs: Path):
    return Presentation(str(next(demo_qbr_outputs.rglob("*.pptx"))))


def xp(element, path: str) -> list:
    """XPath with the chart namespace, on python-pptx and plain lxml elements alike."""
    return etree.XPath(path, namespaces=NS)(element)


def caption_of(slide) -> str:
    return " ".join(s.text_frame.text for s in slide.shapes if s.name == "Caption")


def chart_slides(prs):
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_chart:
                yield slide, shape.chart


def series_names(element) -> list[str]:
    return [str(v) for v in xp(element, "./c:ser/c:tx//c:v/text()")]


def test_every_native_chart_holds_what_its_caption_names(deck) -> None:
    named = {"whiskers": 0, "target": 0, "highlighted": 0, "cumulative": 0, "cut": 0}
    for slide, chart in chart_slides(deck):
        caption = caption_of(slide).lower()
        space = chart._chartSpace
        plot_area = space.find(f"{C}chart").find(f"{C}plotArea")
        lines = plot_area.findall(f"{C}lineChart")
        line_names = [n for lc in lines for n in series_names(lc)]
        if "whiskers" in caption:
            named["whiskers"] += 1
            bars = xp(space, ".//c:errBars")
            assert bars, slide.shapes.title.text
            # Custom plus and minus values, one per drawn point with an interval.
            assert all(xp(b, "./c:errValType/@val") == ["cust"] for b in bars)
            assert all(xp(b, "./c:plus//c:pt")
                       and xp(b, "./c:minus//c:pt") for b in bars)
        if "dashed line: target" in caption:
            named["target"] += 1
            assert "Target" in line_names, slide.shapes.title.text
        if "highlighted" in caption:
            named["highlighted"] += 1
            assert xp(space, ".//c:ser/c:dPt"), slide.shapes.title.text
        if "cumulative share" in caption:
            named["cumulative"] += 1
            assert "Cumulative share" in line_names
            # On its own right-hand axis: a second value axis positioned on the right.
            assert len(plot_area.findall(f"{C}valAx")) == 2
            assert xp(plot_area, "./c:valAx/c:axPos/@val")[-1] == "r"
        if "% cut" in caption:
            named["cut"] += 1
            assert any(name.endswith("% cut") for name in line_names)
    # The demo deck names every kind of element at least once, so none was skipped.
    assert all(named.values()), named


def test_no_chart_draws_an_element_its_caption_leaves_out(deck) -> None:
    for slide, chart in chart_slides(deck):
        caption = caption_of(slide).lower()
        space = chart._chartSpace
        if xp(space, ".//c:errBars"):
            assert "whiskers" in caption
        if xp(space, ".//c:ser/c:dPt"):
            assert "highlighted" in caption


def test_no_slide_has_a_single_row_table(deck) -> None:
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_table:
                assert len(shape.table.rows) > 2, slide.shapes.title.text  # header + rows


def test_dividers_only_head_sections_of_three_or_more_slides(deck) -> None:
    slides = list(deck.slides)
    starts = [i for i, s in enumerate(slides) if s.slide_layout.name == "Section Header"]
    assert starts, "the demo has sections long enough for a divider"
    for start in starts:
        following = 0
        for slide in slides[start + 1:]:
            if slide.slide_layout.name == "Section Header":
                break
            following += 1
        assert following >= 3, slides[start].shapes.title.text


# --- text fits its box, measured with Pillow and the master's font file -----------------


def _inherited_size(slide, shape) -> float:
    layout_ph = slide.slide_layout.placeholders.get(idx=shape.placeholder_format.idx)
    if layout_ph is not None:
        sizes = layout_ph.element.xpath("./p:txBody/a:lstStyle/a:lvl1pPr/a:defRPr/@sz")
        if sizes:
            return int(sizes[0]) / 100
    master = slide.slide_layout.slide_master.element
    style = "titleStyle" if shape.placeholder_format.type in (
        PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE) else "bodyStyle"
    return int(master.xpath(f"./p:txStyles/p:{style}/a:lvl1pPr/a:defRPr/@sz")[0]) / 100


def _lines(font: ImageFont.FreeTypeFont, text: str, width_pt: float, size: float) -> int:
    """Lines of a greedy word wrap, every width measured from the font file."""
    def fits(line: str) -> bool:
        return font.getlength(line) * size / 100 <= width_pt

    count = 0
    for raw in text.split("\n"):
        line = ""
        for word in raw.split():
            if fits(f"{line} {word}".strip()):
                line = f"{line} {word}".strip()
                continue
            count += 1 if line else 0
            while len(word) > 1 and not fits(word):
                keep = max([i for i in range(1, len(word)) if fits(word[:i])] or [1])
                word = word[keep:]
                count += 1
            line = word
        count += 1
    return count


def _inset(frame, name: str, default: int) -> int:
    value = frame._txBody.bodyPr.get(name)
    return default if value is None else int(value)


def test_no_text_frame_overflows_its_box(deck) -> None:
    regular = ImageFont.truetype(font_file("Inter"), 100)
    bold = ImageFont.truetype(font_file("Inter", bold=True), 100)
    checked = 0
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if not shape.has_text_frame or not shape.text_frame.text.strip():
                continue
            kind = shape.placeholder_format.type if shape.is_placeholder else None
            if kind in (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER):
                continue
            frame = shape.text_frame
            width = Emu(shape.width - _inset(frame, "lIns", DEFAULT_INSET_X)
                        - _inset(frame, "rIns", DEFAULT_INSET_X)).pt
            height = Emu(shape.height - _inset(frame, "tIns", DEFAULT_INSET_Y)
                         - _inset(frame, "bIns", DEFAULT_INSET_Y)).pt
            if kind in (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT):
                width -= Emu(320040).pt  # the bullet indent of list paragraphs
            needed = 0.0
            for paragraph in frame.paragraphs:
                runs = paragraph.runs
                size = next((r.font.size.pt for r in runs if r.font.size), None) \
                    or _inherited_size(slide, shape)
                is_bold = kind in (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE) or \
                    any(r.font.bold for r in runs)
                font = bold if is_bold else regular
                text = "".join(r.text for r in runs)
                needed += _lines(font, text, width, size) * size * 1.2
                if paragraph.space_after is not None:
                    needed += paragraph.space_after.pt
            # Paragraph spacing after the last paragraph takes no room inside the box.
            last = frame.paragraphs[-1].space_after
            needed -= last.pt if last is not None else 0.0
            assert needed <= height + 0.5, (number, shape.name, frame.text[:80], needed, height)
            assert "\u2026" not in frame.text or kind is not None, (number, shape.name)
            checked += 1
    assert checked > 30  # titles, captions, KPI lines, lists on some 20 slides
