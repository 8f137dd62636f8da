"""Where a native chart's data labels, whiskers and lines fall on the slide, read from its XML.

A chart whose plot area has a manual inner layout (``c:plotArea/c:layout``, written by
``pptx_labels``) and a fixed value axis (``c:scaling`` min and max) is drawn at a known
place: PowerPoint and LibreOffice put the plot's inner rectangle where the layout says,
categories in equal slots and values linearly between the axis bounds.  From that, the box
of every data label (its position, offset and font size, its text measured in the deck
font) and every line segment (whiskers, target, cumulative share, threshold, the zero axis)
is computed in points from the chart frame's top-left corner, and any two that cross are
counted as a collision.

Everything is read back from the chart's own XML, so the same reading checks a deck written
by an earlier run or edited by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from pptx.oxml.ns import qn

from reportgen.render.pptx_text import LINE_HEIGHT, text_width_pt

#: Space between a bar's end (or base) and its label, as both applications leave it.
LABEL_PAD = 3.0
#: A label's box is its text plus this margin on each side.
LABEL_MARGIN = 1.5
#: Half the width of a drawn line (whiskers are 1.25 pt, lines up to 2 pt).
LINE_HALF_WIDTH = 1.0
DEFAULT_LABEL_PT = 10.0


@dataclass(frozen=True)
class Rect:
    """An axis-aligned box in points, y growing downwards."""

    x0: float
    y0: float
    x1: float
    y1: float

    def hits(self, other: Rect) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 \
            and other.y0 < self.y1

    def inside(self, other: Rect) -> bool:
        return (self.x0 >= other.x0 - 0.01 and self.x1 <= other.x1 + 0.01
                and self.y0 >= other.y0 - 0.01 and self.y1 <= other.y1 + 0.01)

    def shifted(self, dx: float, dy: float) -> Rect:
        return Rect(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)


@dataclass(frozen=True)
class Segment:
    """A drawn line from (x0, y0) to (x1, y1), in points."""

    x0: float
    y0: float
    x1: float
    y1: float
    what: str

    def crosses(self, box: Rect) -> bool:
        grown = Rect(box.x0 - LINE_HALF_WIDTH, box.y0 - LINE_HALF_WIDTH,
                     box.x1 + LINE_HALF_WIDTH, box.y1 + LINE_HALF_WIDTH)
        steps = max(2, int(max(abs(self.x1 - self.x0), abs(self.y1 - self.y0)) / 0.5))
        for k in range(steps + 1):  # sampled every half point: finer than any label
            t = k / steps
            x, y = self.x0 + (self.x1 - self.x0) * t, self.y0 + (self.y1 - self.y0) * t
            if grown.x0 < x < grown.x1 and grown.y0 < y < grown.y1:
                return True
        return False


@dataclass(frozen=True)
class Geometry:
    """A chart frame's plot rectangle and scales, in points from the frame's corner."""

    width: float
    height: float
    plot: Rect
    horizontal: bool
    low: float
    high: float
    count: int
    gap_width: float = 150.0
    #: whether the first category is drawn last (at the bottom of bars, right of columns)
    first_last: bool = False

    @property
    def frame(self) -> Rect:
        return Rect(0.0, 0.0, self.width, self.height)

    @property
    def label_room(self) -> Rect:
        """Where labels may go: the frame, short of the axis and names beside the bars."""
        if self.horizontal:
            return Rect(self.plot.x0, self.plot.y0, self.width, self.plot.y1)
        return Rect(self.plot.x0, 0.0, self.plot.x1, self.plot.y1)

    def at(self, value: float, low: float | None = None, high: float | None = None) -> float:
        """The coordinate of ``value`` along the value direction (x for bars, y for columns)."""
        lo = self.low if low is None else low
        hi = self.high if high is None else high
        share = (value - lo) / (hi - lo) if hi > lo else 0.0
        if self.horizontal:
            return self.plot.x0 + share * (self.plot.x1 - self.plot.x0)
        return self.plot.y1 - share * (self.plot.y1 - self.plot.y0)

    def centre(self, index: int) -> float:
        """The middle of category ``index``'s slot (first at the top or left)."""
        slot = index + 0.5
        if self.first_last:
            slot = self.count - slot
        if self.horizontal:
            # Bars run bottom-up unless the category axis is reversed.
            return self.plot.y1 - slot * (self.plot.y1 - self.plot.y0) / self.count
        return self.plot.x0 + slot * (self.plot.x1 - self.plot.x0) / self.count

    @property
    def base(self) -> float:
        """Where bars start: zero, or the axis end nearest to it."""
        return self.at(min(max(0.0, self.low), self.high))

    def point(self, index: int, value: float, low: float | None = None,
              high: float | None = None) -> tuple[float, float]:
        along, across = self.centre(index), self.at(value, low, high)
        return (across, along) if self.horizontal else (along, across)


@dataclass(frozen=True)
class Label:
    """One data label as placed: its point, text, position and box."""

    index: int
    value: float
    text: str
    position: str
    box: Rect


def label_box(geo: Geometry, index: int, value: float, text: str, size: float,
              position: str, offset: tuple[float, float] = (0.0, 0.0)) -> Rect:
    """The box of ``text`` labelling ``value`` at ``position`` (``outEnd``, ``inEnd``,
    ``inBase`` or ``ctr``), moved by ``offset`` (fractions of the frame, as in
    ``c:manualLayout``)."""
    width = text_width_pt(text, size) + 2 * LABEL_MARGIN
    height = size * LINE_HEIGHT
    end, base, mid = geo.at(value), geo.base, geo.centre(index)
    extent = width if geo.horizontal else height
    # +1 when the bar grows towards larger coordinates (right; downwards for negative columns)
    grows = 1.0 if (end >= base) else -1.0
    if position == "outEnd":
        start = end + grows * LABEL_PAD
        lo = start if grows > 0 else start - extent
    elif position == "inEnd":
        start = end - grows * LABEL_PAD
        lo = start - extent if grows > 0 else start
    elif position == "inBase":
        start = base + grows * LABEL_PAD
        lo = start if grows > 0 else start - extent
    else:
        lo = (end + base) / 2 - extent / 2
    across = width if not geo.horizontal else height
    if geo.horizontal:
        box = Rect(lo, mid - across / 2, lo + extent, mid + across / 2)
    else:
        box = Rect(mid - across / 2, lo, mid + across / 2, lo + extent)
    return box.shifted(offset[0] * geo.width, offset[1] * geo.height)


def bar_fits(geo: Geometry, value: float, box: Rect) -> bool:
    """Whether an inside label's box lies within its bar's length."""
    end, base = geo.at(value), geo.base
    lo, hi = sorted((end, base))
    along = (box.x0, box.x1) if geo.horizontal else (box.y0, box.y1)
    return along[0] >= lo - 0.01 and along[1] <= hi + 0.01


# -- reading the XML -----------------------------------------------------------------------

def _val(element: etree._Element | None, path: str, default: str = "") -> str:
    if element is None:
        return default
    found = element.find(path)
    return found.get("val", default) if found is not None else default


def _plot_area(space: etree._Element) -> etree._Element:
    chart = space.find(qn("c:chart"))
    assert chart is not None
    area = chart.find(qn("c:plotArea"))
    assert area is not None
    return area


def _axis(area: etree._Element, axis_id: str) -> etree._Element | None:
    for tag in ("c:valAx", "c:catAx", "c:dateAx"):
        for axis in area.findall(qn(tag)):
            if _val(axis, qn("c:axId")) == axis_id:
                return axis
    return None


def _scale(area: etree._Element, chart: etree._Element) -> tuple[float, float] | None:
    for axis_id in (e.get("val", "") for e in chart.findall(qn("c:axId"))):
        axis = _axis(area, axis_id)
        if axis is not None and axis.tag == qn("c:valAx"):
            scaling = axis.find(qn("c:scaling"))
            low, high = _val(scaling, qn("c:min")), _val(scaling, qn("c:max"))
            if low and high:
                return float(low), float(high)
    return None


def read_geometry(space: etree._Element, width: float, height: float) -> Geometry | None:
    """The frame's geometry, or ``None`` when the chart leaves its layout to the application."""
    area = _plot_area(space)
    manual = area.find(f"{qn('c:layout')}/{qn('c:manualLayout')}")
    bar = area.find(qn("c:barChart"))
    if manual is None or bar is None or _val(manual, qn("c:layoutTarget")) != "inner":
        return None
    scale = _scale(area, bar)
    if scale is None:
        return None
    x, y = float(_val(manual, qn("c:x"), "0")), float(_val(manual, qn("c:y"), "0"))
    w, h = float(_val(manual, qn("c:w"), "1")), float(_val(manual, qn("c:h"), "1"))
    plot = Rect(x * width, y * height, (x + w) * width, (y + h) * height)
    first = bar.find(qn("c:ser"))
    count = len(_values(first)) if first is not None else 0
    category = next((a for a in (_axis(area, e.get("val", "")) for e in bar.findall(qn("c:axId")))
                     if a is not None and a.tag != qn("c:valAx")), None)
    reversed_axis = _val(category.find(qn("c:scaling")) if category is not None else None,
                         qn("c:orientation")) == "maxMin"
    return Geometry(width, height, plot, _val(bar, qn("c:barDir")) == "bar", scale[0],
                    scale[1], max(1, count), float(_val(bar, qn("c:gapWidth"), "150")),
                    first_last=reversed_axis)


def _values(ser: etree._Element) -> list[float | None]:
    cache = ser.find(f"{qn('c:val')}/{qn('c:numRef')}/{qn('c:numCache')}")
    if cache is None:
        cache = ser.find(f"{qn('c:val')}/{qn('c:numLit')}")
    if cache is None:
        return []
    count = int(_val(cache, qn("c:ptCount"), "0"))
    values: list[float | None] = [None] * count
    for pt in cache.findall(qn("c:pt")):
        v = pt.find(qn("c:v"))
        if v is not None and v.text not in (None, ""):
            values[int(pt.get("idx", "0"))] = float(v.text)
    return values


def _literal(element: etree._Element | None) -> dict[int, float]:
    if element is None:
        return {}
    return {int(pt.get("idx", "0")): float(pt.findtext(qn("c:v")) or 0)
            for pt in element.iter(qn("c:pt"))}


def segments(space: etree._Element, geo: Geometry) -> Iterator[Segment]:
    """Every line drawn over the bars: whiskers, overlay lines and the zero axis."""
    area = _plot_area(space)
    bar = area.find(qn("c:barChart"))
    assert bar is not None
    for ser in bar.findall(qn("c:ser")):
        values = _values(ser)
        for bars in ser.findall(qn("c:errBars")):
            plus, minus = _literal(bars.find(qn("c:plus"))), _literal(bars.find(qn("c:minus")))
            for i, v in enumerate(values):
                if v is None or (i not in plus and i not in minus):
                    continue
                (x0, y0), (x1, y1) = (geo.point(i, v + plus.get(i, 0.0)),
                                      geo.point(i, v - minus.get(i, 0.0)))
                yield Segment(x0, y0, x1, y1, f"whisker {i}")
    for line in area.findall(qn("c:lineChart")):
        scale = _scale(area, line) or (geo.low, geo.high)
        for ser in line.findall(qn("c:ser")):
            name = ser.findtext(f"{qn('c:tx')}//{qn('c:v')}") or "line"
            points = [(i, v) for i, v in enumerate(_values(ser)) if v is not None]
            for (i, a), (j, b) in zip(points, points[1:], strict=False):
                (x0, y0), (x1, y1) = geo.point(i, a, *scale), geo.point(j, b, *scale)
                yield Segment(x0, y0, x1, y1, name)
    if geo.low < 0 < geo.high:  # the category axis crosses the value axis at zero
        zero = geo.at(0.0)
        plot = geo.plot
        yield (Segment(zero, plot.y0, zero, plot.y1, "zero axis") if geo.horizontal
               else Segment(plot.x0, zero, plot.x1, zero, "zero axis"))


def format_label(value: float, code: str) -> str:
    """``value`` as an Excel number format of the few kinds the deck writes shows it."""
    sections = code.split(";")
    section = sections[0]
    if value < 0 and len(sections) > 1:
        section, value = sections[1], -value
    elif value == 0 and len(sections) > 2:
        section = sections[2]
    literal = section.replace('"', "").replace("\\", "")
    percent = "%" in literal
    shown = value * 100 if percent else value
    body = literal.replace("%", "")
    digits = body.split(".")[1].count("0") if "." in body else 0
    grouped = "," in body
    number = f"{shown:,.{digits}f}" if grouped else f"{shown:.{digits}f}"
    if code == "General":
        return f"{value:g}"
    prefix = literal[: len(literal) - len(literal.lstrip("+-\u2212"))]
    return prefix + number + ("%" if percent else "")


def _label_settings(dlbls: etree._Element | None) -> dict[str, str]:
    if dlbls is None:
        return {}
    out = {"pos": _val(dlbls, qn("c:dLblPos")), "show": _val(dlbls, qn("c:showVal")),
           "delete": _val(dlbls, qn("c:delete"))}
    fmt = dlbls.find(qn("c:numFmt"))
    if fmt is not None:
        out["format"] = fmt.get("formatCode", "General")
    size = dlbls.find(f"{qn('c:txPr')}/{qn('a:p')}/{qn('a:pPr')}/{qn('a:defRPr')}")
    if size is not None and size.get("sz"):
        out["size"] = str(int(size.get("sz", "0")) / 100)
    return {k: v for k, v in out.items() if v}


_NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
       "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}


def labels(space: etree._Element, geo: Geometry) -> list[Label]:
    """Every data label the chart shows, with its box."""
    area = _plot_area(space)
    bar = area.find(qn("c:barChart"))
    assert bar is not None
    plot_level = _label_settings(bar.find(qn("c:dLbls")))
    found: list[Label] = []
    for ser in bar.findall(qn("c:ser")):
        series_level = {**plot_level, **_label_settings(ser.find(qn("c:dLbls")))}
        per_point = {int(_val(d, qn("c:idx"), "0")): d
                     for d in ser.findall(f"{qn('c:dLbls')}/{qn('c:dLbl')}")}
        for i, v in enumerate(_values(ser)):
            point = per_point.get(i)
            settings = {**series_level, **_label_settings(point)}
            if v is None or settings.get("delete") == "1" or settings.get("show") != "1":
                continue
            text = format_label(v, settings.get("format", "General"))
            size = float(settings.get("size", DEFAULT_LABEL_PT))
            manual = point.find(f"{qn('c:layout')}/{qn('c:manualLayout')}") \
                if point is not None else None
            offset = (float(_val(manual, qn("c:x"), "0")), float(_val(manual, qn("c:y"), "0")))
            position = settings.get("pos", "outEnd")
            box = label_box(geo, i, v, text, size, position, offset)
            found.append(Label(i, v, text, position, box))
    return found


def collisions(space: etree._Element, width: float, height: float) -> list[str]:
    """Every label that crosses a line, another label or the frame's edge, described."""
    geo = read_geometry(space, width, height)
    if geo is None:
        # Without a fixed layout no label's place is known: such a chart must show none.
        bar = _plot_area(space).find(qn("c:barChart"))
        return ["labels without a fixed layout"] if bar is not None and _any_labels(bar) else []
    placed = labels(space, geo)
    lines = list(segments(space, geo))
    problems: list[str] = []
    for k, label in enumerate(placed):
        problems += [f"label {label.text!r} crosses the {s.what}"
                     for s in lines if s.crosses(label.box)]
        problems += [f"label {label.text!r} overlaps label {other.text!r}"
                     for other in placed[k + 1:] if label.box.hits(other.box)]
        if not label.box.inside(geo.label_room):
            problems.append(f"label {label.text!r} leaves the room beside its bars")
    return problems


def _any_labels(bar: etree._Element) -> bool:
    return bool(etree.ElementBase.xpath(bar, ".//c:dLbls/c:showVal[@val='1']", namespaces=_NS))
