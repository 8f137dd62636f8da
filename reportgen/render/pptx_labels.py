"""Data labels that collide with nothing: a fixed plot layout, then a free place per label.

The chart application lays a plot out as it likes, so where a label lands is unknown until
the plot is fixed: each labelled chart gets a manual inner plot area, its margins measured
from what sits around it (tick labels, the axis title, wrapped category names, the legend).
Then every label tries the usual places in order (outside the bar's end, inside its end,
inside its base, its middle) and takes the first whose box crosses no whisker, no line and
no label already placed (see ``pptx_chart_geometry``); when none is free, it moves outwards
past whatever is in the way (above the whisker's top).  A label with no free place at all
is left out: the value is in the notes and the section's table.
"""

from __future__ import annotations

from dataclasses import dataclass

from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_DATA_LABEL_POSITION as POS
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.util import Pt

from reportgen.render.pptx_chart_geometry import (
    LABEL_PAD,
    Geometry,
    Rect,
    Segment,
    bar_fits,
    format_label,
    label_box,
    segments,
)
from reportgen.render.pptx_text import LINE_HEIGHT, text_width_pt, wrapped_lines
from reportgen.report.model.sections import NativeChart

LABEL_PT = 11.0
TICK_PT = 11.0
TITLE_PT = 12.0
LEGEND_PT = 12.0
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
_C15 = "http://schemas.microsoft.com/office/drawing/2012/chart"
_NO_LEADER_LINES = (
    f'<c:extLst {nsdecls("c")}><c:ext uri="{{CE6537A1-D6FC-4f65-9D91-7224C49458BB}}" '
    f'xmlns:c15="{_C15}"><c15:showLeaderLines val="0"/></c:ext></c:extLst>'
)
# The places tried in order; the first whose box is free wins.
_TRIED = ("outEnd", "inEnd", "inBase", "ctr")


@dataclass(frozen=True)
class Surround:
    """What sits around a plot: it decides the plot's margins."""

    native: NativeChart
    low: float
    high: float
    step: float
    legend: bool
    secondary: bool


def plot_rect(surround: Surround, width: float, height: float) -> Rect:
    """The plot's inner rectangle (points from the frame's corner) leaving room around it."""
    native = surround.native
    horizontal = native.chart_type in ("bar", "stacked_bar")
    ticks = [surround.low + k * surround.step
             for k in range(int(round((surround.high - surround.low) / surround.step)) + 1)] \
        if surround.step > 0 else [surround.low, surround.high]
    tick_width = max(text_width_pt(format_label(t, native.number_format), TICK_PT) for t in ticks)
    title = TITLE_PT * LINE_HEIGHT + 6 if native.value_axis_title else 0.0
    legend = LEGEND_PT * LINE_HEIGHT + 12 if surround.legend else 0.0
    label_height = LABEL_PT * LINE_HEIGHT + LABEL_PAD + 2
    if horizontal:
        names = max(text_width_pt(c, TICK_PT) for c in native.categories)
        left = min(names + 12, width * 0.35)
        widest = max((text_width_pt(format_label(v, native.number_format), LABEL_PT)
                      for s in native.series for v in s.values if v is not None), default=0.0)
        right = widest + LABEL_PAD + 8
        bottom = TICK_PT * LINE_HEIGHT + 8 + title + legend
        return Rect(left, 8.0, width - right, height - bottom)
    left = tick_width + 12 + title
    right = (text_width_pt("100%", TICK_PT) + 14) if surround.secondary else 14.0
    plot_width = width - left - right
    slot = plot_width / max(1, len(native.categories))
    lines = max(wrapped_lines(c, Pt(max(1.0, slot - 6)), TICK_PT) for c in native.categories)
    bottom = lines * TICK_PT * LINE_HEIGHT + 10 + legend
    return Rect(left, label_height + 4, width - right, height - bottom)


def set_plot_layout(chart, rect: Rect, width: float, height: float) -> None:
    """Fix the plot's inner rectangle (``c:manualLayout``, fractions of the frame)."""
    area = chart._chartSpace.find(qn("c:chart")).find(qn("c:plotArea"))
    for old in area.findall(qn("c:layout")):
        area.remove(old)
    layout = parse_xml(
        f'<c:layout {nsdecls("c")}><c:manualLayout><c:layoutTarget val="inner"/>'
        '<c:xMode val="edge"/><c:yMode val="edge"/>'
        f'<c:x val="{rect.x0 / width:.5f}"/><c:y val="{rect.y0 / height:.5f}"/>'
        f'<c:w val="{(rect.x1 - rect.x0) / width:.5f}"/>'
        f'<c:h val="{(rect.y1 - rect.y0) / height:.5f}"/></c:manualLayout></c:layout>'
    )
    area.insert(0, layout)


def place_labels(chart, series_index: int, geo: Geometry, number_format: str,
                 label_colour: RGBColor) -> list[Rect]:
    """Label every value of one bar series where nothing is in the way; return the boxes.

    Labels inside a bar are white, outside it ``label_colour``.
    """
    plot = chart.plots[0]
    series = plot.series[series_index]
    values = list(series.values)
    lines = list(segments(chart._chartSpace, geo))
    placed: list[Rect] = []
    labels = series.data_labels
    labels.number_format = number_format
    labels.number_format_is_linked = False
    labels.show_value = True
    labels.font.size = Pt(LABEL_PT)
    for index, value in enumerate(values):
        if value is None:
            continue
        text = format_label(value, number_format)
        choice = _free_place(geo, index, value, text, lines, placed)
        label = series.points[index].data_label
        if choice is None:
            _hide(label._get_or_add_dLbl())
            continue
        position, offset, box = choice
        placed.append(box)
        _write_label(label, position, offset, WHITE if position != "outEnd" else label_colour)
    dlbls = series._element.find(qn("c:dLbls"))
    if dlbls is not None and dlbls.find(qn("c:extLst")) is None:
        dlbls.append(parse_xml(_NO_LEADER_LINES))
    return placed


def _free_place(geo: Geometry, index: int, value: float, text: str, lines: list[Segment],
                placed: list[Rect]) -> tuple[str, float, Rect] | None:
    def free(box: Rect) -> bool:
        return (box.inside(geo.label_room) and not any(s.crosses(box) for s in lines)
                and not any(box.hits(p) for p in placed))

    for position in _TRIED:
        box = label_box(geo, index, value, text, LABEL_PT, position)
        if position != "outEnd" and not bar_fits(geo, value, box):
            continue
        if free(box):
            return position, 0.0, box
    # Outwards from the bar's end, a point at a time, past whiskers and lines.
    outward = 1.0 if geo.at(value) >= geo.base else -1.0  # columns grow towards smaller y
    limit = geo.width if geo.horizontal else geo.height
    shift = 1.0
    while shift < limit:
        step = outward * shift / limit
        offset = (step, 0.0) if geo.horizontal else (0.0, step)
        box = label_box(geo, index, value, text, LABEL_PT, "outEnd", offset)
        if not box.inside(geo.label_room):
            return None
        if free(box):
            return "outEnd", step, box
        shift += 1.0
    return None


def _write_label(label, position: str, offset: float, colour: RGBColor) -> None:
    """One point's label: its position, its colour and (when moved) its offset."""
    label.position = {"outEnd": POS.OUTSIDE_END, "inEnd": POS.INSIDE_END,
                      "inBase": POS.INSIDE_BASE, "ctr": POS.CENTER}[position]
    label.font.size = Pt(LABEL_PT)
    label.font.color.rgb = colour
    d_lbl = label._get_or_add_dLbl()
    if offset:
        x, y = (offset, 0.0) if _is_horizontal(d_lbl) else (0.0, offset)
        layout = parse_xml(
            f'<c:layout {nsdecls("c")}><c:manualLayout><c:x val="{x:.5f}"/>'
            f'<c:y val="{y:.5f}"/></c:manualLayout></c:layout>'
        )
        for old in d_lbl.findall(qn("c:layout")):
            d_lbl.remove(old)
        d_lbl.find(qn("c:idx")).addnext(layout)


def _hide(d_lbl) -> None:
    """A point's label switched off (``c:delete``: nothing else may follow ``c:idx``)."""
    for child in list(d_lbl)[1:]:
        d_lbl.remove(child)
    d_lbl.append(parse_xml(f'<c:delete {nsdecls("c")} val="1"/>'))


def _is_horizontal(d_lbl) -> bool:
    bar = next((a for a in d_lbl.iterancestors() if a.tag == qn("c:barChart")), None)
    direction = bar.find(qn("c:barDir")) if bar is not None else None
    return direction is not None and direction.get("val") == "bar"
