"""Build ``master.pptx``, the default slide master of the QBR deck.

Run from anywhere: ``python report_templates/qbr/build_master.py [OUT]`` (default: the
``master.pptx`` next to this script).  The master is derived from python-pptx's own
default template so it carries every standard layout name PowerPoint users expect
("Title Slide", "Title and Content", "Title Only", "Section Header", "Blank"...), then:

* the slide size becomes 16:9 (13.333 x 7.5 in) and every layout is re-laid out for it;
* the theme takes its colours and fonts from ``reportgen.report.model.report_model.Theme``
  defaults, so the default deck matches the default PDF; an organisation replaces the whole
  file with its own master and the deck follows that master's theme, fonts and layout
  geometry;
* title and section layouts get a dark background and an accent bar, content layouts
  a thin rule under the title and a footer line with the slide number.

The renderer only relies on layout *names* and placeholder *types*, never on the
positions chosen here.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.util import Emu, Inches

try:
    from reportgen.report.model.report_model import Theme
except ModuleNotFoundError:  # a source checkout run as a plain script, package not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from reportgen.report.model.report_model import Theme

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "master.pptx"

SLIDE_WIDTH = Emu(12192000)  # 13.333 in: the PowerPoint "Widescreen" 16:9 size
SLIDE_HEIGHT = Emu(6858000)  # 7.5 in
OLD_WIDTH = 9144000  # python-pptx's default template is 4:3, 10 in wide

MARGIN = 0.6  # inches, left and right
CONTENT_WIDTH = 13.333 - 2 * MARGIN
TITLE_BOX = (MARGIN, 0.35, CONTENT_WIDTH, 0.9)
BODY_BOX = (MARGIN, 1.6, CONTENT_WIDTH, 5.1)
FOOTER_TOP, FOOTER_HEIGHT = 6.95, 0.35

A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _hex(colour: str) -> str:
    return colour.lstrip("#").upper()


def _place(shape, box: tuple[float, float, float, float]) -> None:
    left, top, width, height = box
    shape.left, shape.top = Inches(left), Inches(top)
    shape.width, shape.height = Inches(width), Inches(height)


def _widen_all(shape_tree) -> None:
    """Stretch every explicit x position and width from 4:3 to 16:9 (unused layouts stay usable)."""
    factor = SLIDE_WIDTH / OLD_WIDTH
    for xfrm in shape_tree.iter(qn("a:xfrm")):
        off, ext = xfrm.find(qn("a:off")), xfrm.find(qn("a:ext"))
        if off is None or ext is None or int(ext.get("cx")) == 0:
            continue
        off.set("x", str(round(int(off.get("x")) * factor)))
        ext.set("cx", str(round(int(ext.get("cx")) * factor)))


def _flush_left(shape) -> None:
    """No left inset, so the text lines up with the rule, tables and charts at the margin."""
    shape.element.find(qn("p:txBody")).find(qn("a:bodyPr")).set("lIns", "0")


def _level1_style(shape, *, size: int, colour: str, bold: bool = False, align: str = "l",
                  anchor: str | None = None) -> None:
    """Replace a layout placeholder's list style by one first-level style (what slides inherit)."""
    tx_body = shape.element.find(qn("p:txBody"))
    if anchor:
        tx_body.find(qn("a:bodyPr")).set("anchor", anchor)
    old = tx_body.find(qn("a:lstStyle"))
    new = parse_xml(
        f"<a:lstStyle {nsdecls('a')}><a:lvl1pPr marL=\"0\" indent=\"0\" algn=\"{align}\">"
        f"<a:buNone/><a:defRPr sz=\"{size * 100}\" b=\"{int(bold)}\">"
        f"<a:solidFill><a:schemeClr val=\"{colour}\"/></a:solidFill></a:defRPr>"
        f"</a:lvl1pPr></a:lstStyle>"
    )
    old.addprevious(new)
    tx_body.remove(old)


def _add_bar(owner, name: str, box: tuple[float, float, float, float], colour: str) -> None:
    """Draw a flat rectangle in a master or layout (decoration every slide inherits)."""
    tree = owner.element.cSld.spTree
    next_id = max(int(e.get("id")) for e in tree.iter(qn("p:cNvPr"))) + 1
    left, top, width, height = (int(Inches(v)) for v in box)
    tree.append(parse_xml(
        f"<p:sp {nsdecls('a', 'p')}><p:nvSpPr><p:cNvPr id=\"{next_id}\" name=\"{name}\"/>"
        f"<p:cNvSpPr/><p:nvPr userDrawn=\"1\"/></p:nvSpPr><p:spPr>"
        f"<a:xfrm><a:off x=\"{left}\" y=\"{top}\"/><a:ext cx=\"{width}\" cy=\"{height}\"/></a:xfrm>"
        f"<a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom>"
        f"<a:solidFill><a:schemeClr val=\"{colour}\"/></a:solidFill><a:ln><a:noFill/></a:ln>"
        f"</p:spPr></p:sp>"
    ))


def _style_master(master) -> None:
    """Geometry, text styles and decoration of the master every content layout inherits."""
    _widen_all(master.element.cSld.spTree)
    for ph in master.placeholders:
        kind = ph.placeholder_format.type.name if ph.placeholder_format.type else ""
        if kind == "TITLE":
            _place(ph, TITLE_BOX)
            ph.element.find(qn("p:txBody")).find(qn("a:bodyPr")).set("anchor", "b")
            _flush_left(ph)
        elif kind == "BODY":
            _place(ph, BODY_BOX)
        elif kind == "FOOTER":
            _place(ph, (MARGIN, FOOTER_TOP, 9.0, FOOTER_HEIGHT))
        elif kind == "DATE":
            _place(ph, (MARGIN + 9.0, FOOTER_TOP, 2.0, FOOTER_HEIGHT))
        elif kind == "SLIDE_NUMBER":
            _place(ph, (13.333 - MARGIN - 1.2, FOOTER_TOP, 1.2, FOOTER_HEIGHT))
    for ph in master.placeholders:
        kind = ph.placeholder_format.type.name if ph.placeholder_format.type else ""
        if kind in ("FOOTER", "DATE", "SLIDE_NUMBER"):
            align = {"FOOTER": "l", "DATE": "ctr", "SLIDE_NUMBER": "r"}[kind]
            _level1_style(ph, size=10, colour="tx2", align=align)
            if kind == "FOOTER":
                _flush_left(ph)
    # The rule under the title and a short accent tab on it.
    _add_bar(master, "Title Rule", (MARGIN, 1.33, CONTENT_WIDTH, 0.012), "bg2")
    _add_bar(master, "Title Accent", (MARGIN, 1.31, 0.9, 0.05), "accent2")

    styles = master.element.find(qn("p:txStyles"))
    title = styles.find(qn("p:titleStyle")).find(qn("a:lvl1pPr"))
    title.set("algn", "l")
    _set_run_defaults(title, size=28, bold=True, colour="tx2")
    body = styles.find(qn("p:bodyStyle"))
    for level, size in zip(range(1, 10), (20, 18, 16, 14, 14, 14, 14, 14, 14), strict=True):
        _set_run_defaults(body.find(qn(f"a:lvl{level}pPr")), size=size, bold=False, colour="tx1")


def _set_run_defaults(level_props, *, size: int, bold: bool, colour: str) -> None:
    run = level_props.find(qn("a:defRPr"))
    run.set("sz", str(size * 100))
    run.set("b", str(int(bold)))
    for fill in run.findall(qn("a:solidFill")):
        run.remove(fill)
    run.insert(0, parse_xml(f'<a:solidFill {nsdecls("a")}><a:schemeClr val="{colour}"/></a:solidFill>'))


def _dark_layout(layout, title_box, body_box, *, title_size: int, accent_top: float) -> None:
    """A full-bleed dark layout (title slide, section divider) without the master's rule."""
    layout.element.set("showMasterSp", "0")
    layout.background.fill.solid()
    layout.background.fill.fore_color.theme_color = MSO_THEME_COLOR.TEXT_2
    for ph in layout.placeholders:
        kind = ph.placeholder_format.type.name
        if kind in ("TITLE", "CENTER_TITLE"):
            _place(ph, title_box)
            _level1_style(ph, size=title_size, colour="bg1", bold=True, anchor="b")
            _flush_left(ph)
        elif kind in ("SUBTITLE", "BODY"):
            _place(ph, body_box)
            _level1_style(ph, size=18, colour="bg2", anchor="t")
            _flush_left(ph)
    _add_bar(layout, "Accent Bar", (title_box[0], accent_top, 1.2, 0.06), "accent2")


def _style_layouts(prs) -> None:
    for layout in prs.slide_layouts:
        _widen_all(layout.element.cSld.spTree)
        if layout.name == "Title Slide":
            _dark_layout(layout, (0.9, 1.6, 11.5, 2.2), (0.9, 4.15, 11.5, 1.9),
                         title_size=40, accent_top=3.95)
        elif layout.name == "Section Header":
            _dark_layout(layout, (0.9, 2.0, 11.5, 1.8), (0.9, 4.15, 11.5, 1.9),
                         title_size=36, accent_top=3.95)
        elif layout.name in ("Title and Content", "Title Only"):
            for ph in layout.placeholders:
                kind = ph.placeholder_format.type.name
                if kind == "TITLE":
                    _place(ph, TITLE_BOX)
                elif kind == "OBJECT":
                    _place(ph, BODY_BOX)


def _retheme(theme_xml: bytes, theme: Theme) -> bytes:
    """Colours and fonts of the theme part (python-pptx has no theme API)."""
    root = etree.fromstring(theme_xml)
    root.set("name", "reportgen QBR")
    ns = {"a": A}
    scheme = root.find(".//a:clrScheme", ns)
    scheme.set("name", "reportgen")
    palette = [c for c in theme.palette if _hex(c) not in (_hex(theme.primary), _hex(theme.accent))]
    colours = {
        "dk1": "222B36", "lt1": "FFFFFF", "dk2": _hex(theme.primary), "lt2": "DDE3EA",
        "accent1": _hex(theme.primary), "accent2": _hex(theme.accent),
        **{f"accent{i + 3}": _hex(c) for i, c in enumerate(palette[:4])},
        "hlink": _hex(theme.palette[0]), "folHlink": _hex(theme.neutral),
    }
    for name, value in colours.items():
        slot = scheme.find(f"a:{name}", ns)
        for child in list(slot):
            slot.remove(child)
        etree.SubElement(slot, f"{{{A}}}srgbClr", val=value)
    fonts = root.find(".//a:fontScheme", ns)
    fonts.set("name", theme.font_family)
    for latin in fonts.findall("./*/a:latin", ns):
        latin.set("typeface", theme.font_family)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def build_master(out: Path = DEFAULT_OUT, theme: Theme | None = None) -> Path:
    """Write the default QBR slide master to ``out`` and return the path."""
    theme = theme or Theme()
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    size = prs.element.find(qn("p:sldSz"))
    size.attrib.pop("type", None)  # "screen4x3" would contradict the new size
    _style_master(prs.slide_master)
    _style_layouts(prs)
    prs.core_properties.title = "reportgen QBR slide master"
    prs.core_properties.author = "reportgen"

    buffer = io.BytesIO()
    prs.save(buffer)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("ppt/theme/theme"):
                data = _retheme(data, theme)
            # A fixed timestamp keeps the committed file stable across rebuilds.
            info = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    build_master(target)
