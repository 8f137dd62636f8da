"""Chart XML python-pptx has no API for: error bars and combo (bar + line) charts.

Both are plain DrawingML chart elements (ECMA-376 part 1, 21.2); they are written with
lxml in the order the schema requires, so PowerPoint and LibreOffice open them as if
drawn by hand: custom error bars are what Excel writes for "Custom" whiskers, and a
series moved into a ``c:lineChart`` of the same plot area is Excel's "Combo" chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn

# Children of a c:ser that come before c:errBars in a line or bar series.
_BEFORE_ERRBARS = ("c:idx", "c:order", "c:tx", "c:spPr", "c:invertIfNegative",
                   "c:pictureOptions", "c:marker", "c:dPt", "c:dLbls", "c:trendline")
# Children of a c:plotArea that are axes (charts come before them, spPr after).
_AXES = ("c:valAx", "c:catAx", "c:dateAx", "c:serAx")


def _num_lit(values: Sequence[float | None]) -> str:
    points = "".join(f'<c:pt idx="{i}"><c:v>{v!r}</c:v></c:pt>'
                     for i, v in enumerate(values) if v is not None)
    return (f"<c:numLit><c:formatCode>General</c:formatCode>"
            f'<c:ptCount val="{len(values)}"/>{points}</c:numLit>')


def add_error_bars(ser: etree._Element, plus: Sequence[float | None],
                   minus: Sequence[float | None], colour: str, *,
                   direction: str | None = None) -> etree._Element:
    """Give a series custom error bars: ``plus``/``minus`` are distances from each value.

    ``direction`` is ``"y"`` for line charts; bar charts take the direction of their bars
    and must not name one.  Points with ``None`` get no whisker.
    """
    for old in ser.findall(qn("c:errBars")):
        ser.remove(old)
    direction_xml = f'<c:errDir val="{direction}"/>' if direction else ""
    bars = parse_xml(
        f"<c:errBars {nsdecls('c', 'a')}>{direction_xml}"
        '<c:errBarType val="both"/><c:errValType val="cust"/><c:noEndCap val="1"/>'
        f"<c:plus>{_num_lit(plus)}</c:plus><c:minus>{_num_lit(minus)}</c:minus>"
        f'<c:spPr><a:ln w="15875" cap="rnd"><a:solidFill><a:srgbClr val="{colour}"/>'
        "</a:solidFill></a:ln></c:spPr></c:errBars>"
    )
    _insert_after_last(ser, bars, _BEFORE_ERRBARS)
    return bars


def _insert_after_last(parent: etree._Element, child: etree._Element,
                       predecessors: Sequence[str]) -> None:
    tags = {qn(t) for t in predecessors}
    before = [e for e in parent if e.tag in tags]
    if before:
        before[-1].addnext(child)
    else:
        parent.insert(0, child)


def _axis_ids(plot_area: etree._Element) -> set[int]:
    return {int(e.attrib["val"]) for e in plot_area.iter(qn("c:axId"))}


def _secondary_axes(plot_area: etree._Element, number_format: str) -> tuple[int, int]:
    """A hidden category axis and a right-hand 0-100% value axis; their ids."""
    used = _axis_ids(plot_area)
    cat_id = max(used, default=0) + 1
    val_id = cat_id + 1
    cat_ax = parse_xml(
        f"<c:catAx {nsdecls('c')}><c:axId val=\"{cat_id}\"/>"
        '<c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="1"/>'
        '<c:axPos val="b"/><c:majorTickMark val="none"/><c:minorTickMark val="none"/>'
        f'<c:tickLblPos val="nextTo"/><c:crossAx val="{val_id}"/>'
        '<c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
    )
    val_ax = parse_xml(
        f"<c:valAx {nsdecls('c', 'a')}><c:axId val=\"{val_id}\"/>"
        '<c:scaling><c:orientation val="minMax"/><c:max val="1"/><c:min val="0"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="r"/>'
        f'<c:numFmt formatCode="{number_format}" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/>'
        '<c:tickLblPos val="nextTo"/><c:spPr><a:ln><a:noFill/></a:ln></c:spPr>'
        f'<c:crossAx val="{cat_id}"/><c:crosses val="max"/>'
        '<c:crossBetween val="between"/><c:majorUnit val="0.2"/></c:valAx>'
    )
    axes = [e for e in plot_area if e.tag in {qn(t) for t in _AXES}]
    axes[-1].addnext(cat_ax)
    cat_ax.addnext(val_ax)
    return cat_id, val_id


def move_to_line_chart(chart, ser: etree._Element, *, secondary: bool,
                       secondary_format: str = "0%"):
    """Move ``ser`` out of its bar chart into a line chart; return that line plot.

    On the primary axes the line shares the bars' scale (a target line); with
    ``secondary`` it gets a right-hand percentage axis of its own (a cumulative share).
    Lines on the same axes share one ``c:lineChart``.
    """
    plot_area = chart._chartSpace.find(qn("c:chart")).find(qn("c:plotArea"))
    first = next(e for e in plot_area if e.tag.endswith("Chart"))
    primary_ids = [int(e.get("val")) for e in first.findall(qn("c:axId"))]
    if secondary:
        existing = [lc for lc in plot_area.findall(qn("c:lineChart"))
                    if [int(e.get("val")) for e in lc.findall(qn("c:axId"))] != primary_ids]
        if existing:
            line_chart = existing[0]
        else:
            ids = _secondary_axes(plot_area, secondary_format)
            line_chart = _new_line_chart(first, ids)
    else:
        existing = [lc for lc in plot_area.findall(qn("c:lineChart"))
                    if [int(e.get("val")) for e in lc.findall(qn("c:axId"))] == primary_ids]
        line_chart = existing[0] if existing else _new_line_chart(first, primary_ids)

    parent = ser.getparent()
    assert parent is not None
    parent.remove(ser)
    for tag in ("c:invertIfNegative", "c:pictureOptions", "c:shape", "c:dLbls"):
        for old in ser.findall(qn(tag)):
            ser.remove(old)
    if ser.find(qn("c:marker")) is None:
        _insert_after_last(ser, parse_xml(f'<c:marker {nsdecls("c")}><c:symbol val="none"/>'
                                          "</c:marker>"), ("c:idx", "c:order", "c:tx", "c:spPr"))
    if ser.find(qn("c:smooth")) is None:
        ser.append(parse_xml(f'<c:smooth {nsdecls("c")} val="0"/>'))
    siblings = line_chart.findall(qn("c:ser"))
    anchor = siblings[-1] if siblings else line_chart.find(qn("c:varyColors"))
    anchor.addnext(ser)
    return next(p for p in chart.plots if p._element is line_chart)


def _new_line_chart(after: etree._Element, axis_ids: Sequence[int]) -> etree._Element:
    ids = "".join(f'<c:axId val="{i}"/>' for i in axis_ids)
    line_chart = parse_xml(
        f"<c:lineChart {nsdecls('c')}><c:grouping val=\"standard\"/>"
        f'<c:varyColors val="0"/><c:marker val="1"/>{ids}</c:lineChart>'
    )
    plot_area = after.getparent()
    assert plot_area is not None
    siblings = [e for e in plot_area if e.tag.endswith("Chart")]
    siblings[-1].addnext(line_chart)
    return line_chart
