"""Slides on a slide master: layouts by name, titles that fit, footers and speaker notes.

Everything visual that is not data (background, fonts, title position, footer position)
comes from the master, so an organisation restyles the deck by replacing one file.  The
renderer only asks the master for layouts by their standard PowerPoint names and for
placeholders by type.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.enum.text import PP_ALIGN
from pptx.exc import PythonPptxError
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide, SlideLayout
from pptx.util import Emu, Pt

from reportgen.errors import RenderError, TemplateError
from reportgen.render.pptx_text import clamp_lines, fit_paragraphs, wrapped_lines

# role -> (accepted layout names, first is canonical; what the deck uses it for)
LAYOUT_ROLES: dict[str, tuple[tuple[str, ...], str]] = {
    "title": (("Title Slide", "Title"), "the title slide"),
    "content": (("Title and Content",), "the agenda and the key findings"),
    "title_only": (("Title Only",), "scorecard, chart and table slides"),
    "section": (("Section Header",), "section dividers"),
}
TITLE_TYPES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)
TEXT_TYPES = (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.SUBTITLE)
FOOTER_TYPES = (PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER)
# PowerPoint's own sizes when neither the layout nor the master sets one.
SPEC_TITLE_PT, SPEC_BODY_PT = 44.0, 18.0
# Layout placeholder type -> the master placeholder it inherits from.
_MASTER_TYPE = {
    PP_PLACEHOLDER.CENTER_TITLE: PP_PLACEHOLDER.TITLE,
    PP_PLACEHOLDER.SUBTITLE: PP_PLACEHOLDER.BODY,
    PP_PLACEHOLDER.OBJECT: PP_PLACEHOLDER.BODY,
}


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in EMU."""

    left: int
    top: int
    width: int
    height: int

    def shrink_bottom(self, by: int) -> Box:
        return Box(self.left, self.top, self.width, max(0, self.height - by))

    def shrink_top(self, by: int) -> Box:
        return Box(self.left, self.top + by, self.width, max(0, self.height - by))

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def below(self, height: int, gap: int = 0) -> Box:
        """A box of ``height`` at the bottom of this one (for captions and notes)."""
        return Box(self.left, self.top + self.height - height + gap, self.width, height - gap)


def open_master(path: Path) -> PresentationType:
    """Open a slide master file, dropping any slides it carries (only its masters are used)."""
    if not path.is_file():
        raise TemplateError(
            f"slide master {path} does not exist; pass master=<file.pptx> or rebuild the "
            f"default with report_templates/qbr/build_master.py"
        )
    try:
        prs = Presentation(_as_presentation(path))
    except (PythonPptxError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TemplateError(f"slide master {path} is not a readable .pptx file: {exc}") from exc
    slide_ids = prs.element.sldIdLst
    for slide_id in list(slide_ids if slide_ids is not None else ()):
        slide_ids.remove(slide_id)
        prs.part.drop_rel(slide_id.rId)
    return prs


_TEMPLATE_TYPE = b"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
_PRESENTATION_TYPE = (
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
)


def _as_presentation(path: Path) -> str | io.BytesIO:
    """The file to open; a .potx template is relabelled in memory as a presentation.

    Organisations usually ship their master as a template, which differs from a .pptx
    only in the content type of its main part, and python-pptx refuses that type.
    """
    with zipfile.ZipFile(path) as package:
        types = package.read("[Content_Types].xml")
        if _TEMPLATE_TYPE not in types:
            return str(path)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
            for item in package.infolist():
                data = package.read(item.filename)
                if item.filename == "[Content_Types].xml":
                    data = data.replace(_TEMPLATE_TYPE, _PRESENTATION_TYPE)
                copy.writestr(item, data)
    buffer.seek(0)
    return buffer


def resolve_layouts(prs: PresentationType, path: Path) -> dict[str, SlideLayout]:
    """Find every layout the deck needs by name; one error lists all that are missing."""
    by_name: dict[str, SlideLayout] = {}
    for master in prs.slide_masters:
        for layout in master.slide_layouts:
            by_name.setdefault(layout.name, layout)
    found: dict[str, SlideLayout] = {}
    missing: list[str] = []
    for role, (names, purpose) in LAYOUT_ROLES.items():
        layout = next((by_name[n] for n in names if n in by_name), None)
        if layout is None:
            alias = f" (or {', '.join(repr(n) for n in names[1:])})" if len(names) > 1 else ""
            missing.append(f"'{names[0]}'{alias} for {purpose}")
            continue
        if _placeholder(layout, TITLE_TYPES) is None:
            missing.append(f"a title placeholder in layout '{layout.name}'")
        found[role] = layout
    if "content" in found and _placeholder(found["content"], TEXT_TYPES) is None:
        missing.append("a content placeholder in layout 'Title and Content'")
    if missing:
        available = ", ".join(repr(n) for n in by_name) or "none"
        raise RenderError(
            f"slide master {path} lacks {'; '.join(missing)}. Available layouts: {available}. "
            f"Rename the matching layouts in the master (View > Slide Master) or add them."
        )
    return found


def _placeholder(owner, types: Sequence[PP_PLACEHOLDER]):
    return next((p for p in owner.placeholders if p.placeholder_format.type in types), None)


def theme_font(prs: PresentationType) -> str:
    """The master theme's body (minor) Latin typeface: what the deck's text is set in."""
    master = prs.slide_masters[0]
    for rel in master.part.rels.values():
        if rel.reltype.endswith("/theme"):
            root = parse_xml(rel.target_part.blob)
            found = root.xpath("//a:minorFont/a:latin/@typeface")
            if found and not str(found[0]).startswith("+"):
                return str(found[0])
    return ""


def content_box(prs: PresentationType, layout: SlideLayout) -> Box:
    """Where charts and tables go: the content placeholder of the 'Title and Content' layout."""
    body = _placeholder(layout, TEXT_TYPES)
    if body is not None and body.width and body.height:
        return Box(int(body.left), int(body.top), int(body.width), int(body.height))
    # A master without geometry: one-inch margins and room for the title.
    inch = 914400
    width, height = prs.slide_width, prs.slide_height
    assert width is not None and height is not None
    return Box(inch // 2, int(1.6 * inch), width - inch, height - 2 * inch)


def _inherited_size(placeholder, style: str, default: float) -> float:
    """Font size a slide placeholder inherits: layout list style, then the master's."""
    layout = placeholder.part.slide_layout
    layout_ph = layout.placeholders.get(idx=placeholder.placeholder_format.idx)
    sources = [layout_ph]
    if layout_ph is not None:
        kind = _MASTER_TYPE.get(layout_ph.placeholder_format.type, layout_ph.placeholder_format.type)
        sources.append(layout.slide_master.placeholders.get(kind))
    for source in sources:
        if source is None:
            continue
        sizes = source.element.xpath("./p:txBody/a:lstStyle/a:lvl1pPr/a:defRPr/@sz")
        if sizes:
            return int(sizes[0]) / 100
    sizes = layout.slide_master.element.xpath(f"./p:txStyles/p:{style}/a:lvl1pPr/a:defRPr/@sz")
    return int(sizes[0]) / 100 if sizes else default


def _steps(base: float, floor_ratio: float) -> list[float]:
    """Sizes from ``base`` down to ``base * floor_ratio``, in whole points."""
    sizes: list[float] = []
    size = base
    while size >= base * floor_ratio:
        sizes.append(round(size))
        size -= 2 if size > 20 else 1
    return sizes or [base]


def set_title(slide: Slide, text: str) -> str:
    """Set the slide title, shrinking it (and as a last resort cutting it) to fit its box.

    Returns the title as shown, which differs from ``text`` only when it had to be cut.
    """
    title = slide.shapes.title
    if title is None:
        raise RenderError(f"layout '{slide.slide_layout.name}' has no title placeholder")
    base = _inherited_size(title, "titleStyle", SPEC_TITLE_PT)
    size, lines = fit_paragraphs([text], _inner_width(title), _inner_height(title),
                                 _steps(base, 0.6), bold=True)
    shown = lines[0] if lines else ""
    title.text_frame.word_wrap = True
    title.text_frame.text = shown
    if size != round(base):
        for run in title.text_frame.paragraphs[0].runs:
            run.font.size = Pt(size)
    return shown


#: A headline title keeps at least this share of the master's title size; a longer one
#: gives way to a shorter version of the same headline.
HEADLINE_FLOOR = 0.85


def choose_title(slide: Slide, candidates: Sequence[str]) -> str:
    """The longest of ``candidates`` (longest first) that fits the slide's title box on
    one line at no less than ``HEADLINE_FLOOR`` of its size; else the shortest."""
    title = slide.shapes.title
    if title is None or not candidates:
        return candidates[-1] if candidates else ""
    base = _inherited_size(title, "titleStyle", SPEC_TITLE_PT)
    smallest = min(_steps(base, HEADLINE_FLOOR))
    for candidate in candidates:
        if wrapped_lines(candidate, _inner_width(title), smallest, bold=True) == 1:
            return candidate
    return candidates[-1]


def set_paragraphs(placeholder, paragraphs: Sequence[str], *, floor_ratio: float = 0.7,
                   space_after: float = 0.4, style: str = "bodyStyle") -> list:
    """Fill a text placeholder with paragraphs at the largest size that fits its box."""
    base = _inherited_size(placeholder, style, SPEC_BODY_PT)
    size, kept = fit_paragraphs(list(paragraphs), _inner_width(placeholder, indent=True),
                                _inner_height(placeholder), _steps(base, floor_ratio),
                                space_after=space_after)
    frame = placeholder.text_frame
    frame.word_wrap = True
    frame.text = kept[0] if kept else ""
    for text in kept[1:]:
        frame.add_paragraph().text = text
    for paragraph in frame.paragraphs:
        paragraph.space_after = Pt(round(size * space_after))
        for run in paragraph.runs:
            run.font.size = Pt(size)
    return list(frame.paragraphs)


def _inner_width(shape, indent: bool = False) -> int:
    # Default insets are 0.1 in left and right; bullets indent about 0.35 in more.
    return max(Emu(1), int(shape.width) - 182880 - (320040 if indent else 0))


def _inner_height(shape) -> int:
    return max(Emu(1), int(shape.height) - 91440)


def add_footer(slide: Slide, text: str, number: int) -> None:
    """Fill the layout's footer and slide-number placeholders (python-pptx leaves them out)."""
    # python-pptx declares LayoutPlaceholders.__iter__ as a Callable attribute, not a method.
    for layout_ph in slide.slide_layout.placeholders:  # type: ignore[misc]
        kind = layout_ph.placeholder_format.type
        if kind not in FOOTER_TYPES:
            continue
        slide.shapes.clone_placeholder(layout_ph)
        shape = slide.placeholders[layout_ph.placeholder_format.idx]
        paragraph = shape.text_frame.paragraphs[0]
        if kind == PP_PLACEHOLDER.FOOTER:
            # LibreOffice ignores the alignment and font a slide footer inherits, so the
            # master's are repeated here; one line, as a footer must not grow upwards.
            size = _inherited_size(shape, "otherStyle", 10.0)
            paragraph.text = clamp_lines(text, _inner_width(shape), size, 1)
            paragraph.alignment = _ALIGNMENTS.get(_inherited_align(shape), PP_ALIGN.LEFT)
            paragraph.runs[0].font.size = Pt(size)
            paragraph.runs[0].font.name = "+mn-lt"
            continue
        # A field, so PowerPoint renumbers when slides are moved; the text is its cached value.
        guid = str(uuid.uuid5(uuid.NAMESPACE_OID, str(number))).upper()
        field = parse_xml(f'<a:fld {nsdecls("a")} id="{{{guid}}}" type="slidenum">'
                          f'<a:rPr lang="en-US"/><a:t>{number}</a:t></a:fld>')
        end = paragraph._p.find(qn("a:endParaRPr"))  # python-pptx has no field API
        if end is not None:
            end.addprevious(field)
        else:
            paragraph._p.append(field)


_ALIGNMENTS = {"l": PP_ALIGN.LEFT, "ctr": PP_ALIGN.CENTER, "r": PP_ALIGN.RIGHT}


def _inherited_align(placeholder) -> str:
    """Paragraph alignment a slide placeholder inherits from its layout or master."""
    layout = placeholder.part.slide_layout
    kind = placeholder.placeholder_format.type
    for source in (layout.placeholders.get(idx=placeholder.placeholder_format.idx),
                   layout.slide_master.placeholders.get(kind)):
        if source is not None:
            found = source.element.xpath("./p:txBody/a:lstStyle/a:lvl1pPr/@algn")
            if found:
                return str(found[0])
    return "l"


def set_notes(slide: Slide, blocks: Sequence[str]) -> None:
    """Speaker notes: the non-empty ``blocks``, separated by blank lines."""
    text = "\n\n".join(b.strip() for b in blocks if b and b.strip())
    frame = slide.notes_slide.notes_text_frame
    assert frame is not None
    frame.text = text


def text_placeholder(slide: Slide):
    """The first body/subtitle placeholder of a slide, or ``None``."""
    return next((p for p in slide.placeholders
                 if p.placeholder_format.type in TEXT_TYPES), None)


def bullet_colour(paragraph, hex_colour: str) -> None:
    """Colour a paragraph's bullet only (the text keeps the master's colour)."""
    p_pr = paragraph._p.get_or_add_pPr()  # python-pptx has no bullet API
    for old in p_pr.findall(qn("a:buClr")):
        p_pr.remove(old)
    colour = parse_xml(
        f'<a:buClr {nsdecls("a")}><a:srgbClr val="{hex_colour.lstrip("#").upper()}"/></a:buClr>'
    )
    # The schema orders pPr children: line and paragraph spacing come before bullets.
    spacing = [p_pr.find(qn(f"a:{tag}")) for tag in ("lnSpc", "spcBef", "spcAft")]
    spacing = [e for e in spacing if e is not None]
    if spacing:
        spacing[-1].addnext(colour)
    else:
        p_pr.insert(0, colour)
