"""Text boxes of the deck's slides beside the master's placeholders: a caption under the
content, a section KPI as one line above its chart, and the placeholder's own text (removed
when there is none).

Captions shrink to fit and wrap but are never cut; the full text of anything shortened is
in the notes.
"""

from __future__ import annotations

from collections.abc import Sequence

from pptx.dml.color import RGBColor
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from reportgen.render.pptx_slides import Box, set_paragraphs, text_placeholder
from reportgen.render.pptx_text import LINE_HEIGHT, choose_size, text_height_pt
from reportgen.report.model.sections import Figure, Kpi

SEP = " \u00b7 "
CAPTION_HEIGHT = Inches(0.6)
CAPTION_GAP = Inches(0.12)
CAPTION_GREY = RGBColor(0x5F, 0x6B, 0x7A)
CAPTION_PT = 12
CAPTION_SIZES = (12, 11, 10, 9, 8)  # a long caption shrinks rather than being cut
KPI_STRIP_HEIGHT = Inches(0.5)
KPI_STRIP_PT = 16


def add_caption(slide: Slide, text: str, content: Box, top: int | None = None) -> None:
    """Small grey text under the content (figure caption, table note, provenance).

    It shrinks (down to 8 pt) to fit the room under the content and wraps; it is
    never cut.  Text too long even for that grows its box downwards.
    """
    box = content.below(CAPTION_HEIGHT, gap=CAPTION_GAP)
    top = box.top if top is None else min(top, box.top)
    room = box.top + box.height - top
    size = choose_size([text], box.width, room, CAPTION_SIZES) or CAPTION_SIZES[-1]
    needed = int(Pt(text_height_pt([text], box.width, size) + size * (LINE_HEIGHT - 1)))
    shape = slide.shapes.add_textbox(Emu(box.left), Emu(top), Emu(box.width),
                                     Emu(max(room, needed)))
    shape.name = "Caption"
    frame = shape.text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = 0
    frame.margin_top = frame.margin_bottom = 0
    frame.text = text
    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(size)
            run.font.color.rgb = CAPTION_GREY


def add_kpi_strip(slide: Slide, kpi: Kpi, box: Box) -> None:
    """A section KPI as one line above the chart: value, change, target and status."""
    shape = slide.shapes.add_textbox(Emu(box.left), Emu(box.top), Emu(box.width),
                                     KPI_STRIP_HEIGHT)
    shape.name = "KPI"
    frame = shape.text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = 0
    head = f"{kpi.metric.label}: {kpi.value_text}"
    rest = [t for t in (kpi.delta_text and f"{kpi.delta_text} {kpi.significance_text}".strip(),
                        kpi.n_text, kpi.target_text, kpi.status_text) if t]
    tail = "".join(f"{SEP}{t}" for t in rest)
    size = choose_size([head + tail], box.width, KPI_STRIP_HEIGHT,
                       range(KPI_STRIP_PT, 9, -1)) or 10
    paragraph = frame.paragraphs[0]
    for text, bold, colour in ((head, True, None), (tail, False, CAPTION_GREY)):
        if not text:
            continue
        run = paragraph.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.bold = bold
        if colour is not None:
            run.font.color.rgb = colour
    status = kpi.status_colour  # the text authority's colour, as in the PDF and e-mail
    if status and kpi.status_text:
        run = paragraph.runs[-1]
        run.text = run.text.removesuffix(kpi.status_text)
        marker = paragraph.add_run()
        marker.text = kpi.status_text
        marker.font.size = Pt(size)
        marker.font.bold = True
        marker.font.color.rgb = RGBColor.from_string(status.lstrip("#").upper())


def fill_or_drop(slide: Slide, paragraphs: Sequence[str], *, space_after: float = 0.4) -> list:
    """Put ``paragraphs`` in the slide's text placeholder, or remove it when there are none.

    An empty placeholder would show "Click to add text" to whoever edits the deck.
    """
    placeholder = text_placeholder(slide)
    if placeholder is None:
        return []
    if not paragraphs:
        placeholder.element.getparent().remove(placeholder.element)
        return []
    return set_paragraphs(placeholder, paragraphs, space_after=space_after)


def strip_home(figures: Sequence[Figure], kpi: Kpi) -> int:
    """The chart a lone section KPI heads: the first that names its metric (the whole
    label, else its first word: "calibration" for Calibration deviation above the
    auditor-bias chart), else the section's first chart."""
    label = kpi.metric.label.casefold()
    said = [f"{f.title} {f.caption} {f.alt_text}".casefold() for f in figures]
    for wanted in (label, label.split()[0] if label.split() else label):
        for index, text in enumerate(said):
            if wanted and wanted in text:
                return index
    return 0
