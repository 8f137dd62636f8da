"""Figures on slides: native, editable PowerPoint charts, or the figure's PNG.

A native chart carries its data in an embedded workbook, so the audience can restyle it
or read the values; its categories and values are exactly the ``NativeChart`` ones.
Series colours come from the report theme's palette so the deck matches the PDF's
matplotlib charts; everything else (fonts) follows the master's theme.

What the PDF's chart draws beyond plain series is drawn here too, so the deck and the PDF
tell one story: interval whiskers (``c:errBars`` with custom plus/minus values),
highlighted points (``c:dPt``), a target line over bars and a cumulative line with its cut
on a secondary axis (a combo chart).  python-pptx has no API for error bars or combo
charts, so those are written into the chart XML (see ``pptx_chart_xml``).
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from typing import cast

from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_LEGEND_POSITION,
    XL_MARKER_STYLE,
    XL_TICK_LABEL_POSITION,
)
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.parts.image import Image
from pptx.shapes.graphfrm import GraphicFrame
from pptx.slide import Slide
from pptx.util import Emu, Pt

from reportgen.errors import RenderError
from reportgen.render.pptx_chart_geometry import read_geometry
from reportgen.render.pptx_chart_xml import add_error_bars, move_to_line_chart
from reportgen.render.pptx_labels import Surround, place_labels, plot_rect, set_plot_layout
from reportgen.render.pptx_slides import Box
from reportgen.report.model.report_model import Theme
from reportgen.report.model.sections import Figure, NativeChart, Series

CHART_TYPES = {
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "bar": XL_CHART_TYPE.BAR_CLUSTERED,
    "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
    "stacked_column": XL_CHART_TYPE.COLUMN_STACKED,
    "stacked_bar": XL_CHART_TYPE.BAR_STACKED,
    "percent_stacked_column": XL_CHART_TYPE.COLUMN_STACKED_100,
}
HORIZONTAL = ("bar", "stacked_bar")
_DRAW_ORDER = {"band": 0, "data": 1}
IN_BAR_CHART = ("band", "data")  # the roles drawn as bars; the others become lines
SECONDARY = ("cumulative", "threshold")
AXIS_GREY = RGBColor(0x8A, 0x94, 0xA3)
GRID_GREY = RGBColor(0xE3, 0xE7, 0xEC)
BAND_GREY = RGBColor(0xE6, 0xE8, 0xEB)
TEXT_GREY = RGBColor(0x3E, 0x48, 0x55)
# Data labels help only while they do not collide: a single series with few bars.
MAX_LABELLED_CATEGORIES = 12
MAX_CATEGORY_LABELS = 13  # more period labels than this overlap on a slide


def _category_skip(cat_ax, skip: int) -> None:
    """``c:tickLblSkip``/``c:tickMarkSkip`` (no python-pptx API); schema order kept."""
    for tag in ("c:tickLblSkip", "c:tickMarkSkip"):
        for old in cat_ax.findall(qn(tag)):
            cat_ax.remove(old)
    successors = [cat_ax.find(qn(t)) for t in ("c:noMultiLvlLbl", "c:extLst")]
    anchor = next((e for e in successors if e is not None), None)
    for tag in ("c:tickLblSkip", "c:tickMarkSkip"):
        element = parse_xml(f'<{tag} {nsdecls("c")} val="{skip}"/>')
        if anchor is not None:
            anchor.addprevious(element)
        else:
            cat_ax.append(element)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def check_native(figure: Figure) -> NativeChart:
    """The figure's native chart, after checking it is drawable as given."""
    native = figure.native
    if native is None:
        raise RenderError(f"figure '{figure.id}' has no native chart")
    if native.chart_type not in CHART_TYPES:
        raise RenderError(
            f"figure '{figure.id}': native chart type '{native.chart_type}' is not supported "
            f"(supported: {', '.join(CHART_TYPES)})"
        )
    if not native.series or not native.categories:
        raise RenderError(f"figure '{figure.id}': native chart has no categories or no series")
    for series in native.series:
        if len(series.values) != len(native.categories):
            raise RenderError(
                f"figure '{figure.id}': series '{series.name}' has {len(series.values)} values "
                f"for {len(native.categories)} categories"
            )
        for name, bounds in (("low", series.low), ("high", series.high)):
            if bounds and len(bounds) != len(series.values):
                raise RenderError(
                    f"figure '{figure.id}': series '{series.name}' has {len(bounds)} {name} "
                    f"bounds for {len(series.values)} values"
                )
        if role(series) not in IN_BAR_CHART and native.chart_type in HORIZONTAL:
            raise RenderError(
                f"figure '{figure.id}': a {role(series)} line cannot be drawn over horizontal "
                f"bars (series '{series.name}'); use a column chart"
            )
    if not any(role(s) == "data" for s in native.series):
        raise RenderError(f"figure '{figure.id}': native chart has no data series")
    return native


def role(series: Series) -> str:
    """How a series is drawn; a data series named '... target' is the target line."""
    if series.role == "data" and is_target(series.name):
        return "target"
    return series.role


def add_native_chart(slide: Slide, box: Box, figure: Figure, theme: Theme):
    """Add ``figure.native`` as an editable chart filling ``box``; return the graphic frame."""
    native = check_native(figure)
    # Data series first: they stay in the chart's own type; the overlays (target,
    # cumulative share, threshold) are then moved into line charts of their own.
    # A tolerance band goes first of all, so the bars are drawn over it.
    ordered = _with_band_halves(sorted(native.series,
                                       key=lambda s: _DRAW_ORDER.get(role(s), 2)))
    data = CategoryChartData(number_format=native.number_format)
    data.categories = list(native.categories)
    for series in ordered:
        share = role(series) in SECONDARY
        data.add_series(series.name, list(series.values),
                        number_format="0%" if share else native.number_format)
    # python-pptx annotates add_chart as taking ChartData (an alias of CategoryChartData) and
    # returning the Chart; it takes any chart data and returns the chart's GraphicFrame.
    frame = cast(GraphicFrame, slide.shapes.add_chart(
        CHART_TYPES[native.chart_type], Emu(box.left), Emu(box.top), Emu(box.width),
        Emu(box.height), data))  # type: ignore[arg-type]
    frame.name = f"Chart {figure.id}"
    describe(frame, native.alt_text or figure.alt_text)
    chart = frame.chart
    chart.font.size = Pt(12)
    chart.font.color.rgb = TEXT_GREY
    chart.has_title = False  # the slide title names the chart
    chart.has_legend = len(native.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(12)
    _hide_band_halves(chart, ordered)
    bounds = _labelled_bounds(native)
    _style_axes(chart, native, bounds)
    _colour_series(chart, native, ordered, theme)
    _add_overlays(chart, native, ordered, theme)
    if bounds is not None:
        _label_values(chart, native, ordered, bounds, box)
    return frame


def _with_band_halves(ordered: list[Series]) -> list[Series]:
    """A band from -v to +v is two bars on one row: +v, then -v right behind it."""
    out: list[Series] = []
    for series in ordered:
        out.append(series)
        if role(series) == "band":
            out.append(replace(series, values=tuple(None if v is None else -v
                                                    for v in series.values)))
    return out


def _hide_band_halves(chart, ordered: list[Series]) -> None:
    """The band's second half keeps out of the legend (it names the band once)."""
    seen: set[str] = set()
    legend = chart._chartSpace.find(qn("c:chart")).find(qn("c:legend"))
    for index, series in enumerate(ordered):
        if role(series) != "band":
            continue
        if series.name in seen and legend is not None:
            entry = parse_xml(f'<c:legendEntry {nsdecls("c")}><c:idx val="{index}"/>'
                              '<c:delete val="1"/></c:legendEntry>')
            legend.find(qn("c:legendPos")).addnext(entry)
        seen.add(series.name)


def _labelled(native: NativeChart) -> bool:
    """Data labels help only while they can be placed clear: one series, few bars."""
    clustered = native.chart_type in ("bar", "column")
    data_count = sum(role(s) == "data" for s in native.series)
    return clustered and data_count == 1 and len(native.categories) <= MAX_LABELLED_CATEGORIES


def _labelled_bounds(native: NativeChart) -> tuple[float, float, float] | None:
    """The value axis of a labelled chart, fixed (labels are placed against it)."""
    if not _labelled(native):
        return None
    primary = [s for s in native.series if role(s) not in SECONDARY]
    drawn = [v for s in primary for v in (*s.values, *s.high, *s.low) if v is not None]
    drawn += [-v for s in primary if role(s) == "band" for v in s.values if v is not None]
    if not drawn:
        return None
    low = native.y_min if native.y_min is not None else min(0.0, *drawn)
    high = native.y_max if native.y_max is not None else max(0.0, *drawn)
    if high <= low:
        return None
    return nice_bounds(low, high)


def _label_values(chart, native: NativeChart, ordered: list[Series],
                  bounds: tuple[float, float, float], box: Box) -> None:
    """Fix the plot's layout, then label each bar where no whisker or line crosses it."""
    width, height = Emu(box.width).pt, Emu(box.height).pt
    secondary = any(role(s) in SECONDARY for s in native.series)
    surround = Surround(native, *bounds, legend=bool(chart.has_legend), secondary=secondary)
    set_plot_layout(chart, plot_rect(surround, width, height), width, height)
    geometry = read_geometry(chart._chartSpace, width, height)
    if geometry is None:
        return
    bars = [s for s in ordered if role(s) in IN_BAR_CHART]
    index = next(i for i, s in enumerate(bars) if role(s) == "data")
    place_labels(chart, index, geometry, native.number_format, TEXT_GREY)


def _add_overlays(chart, native: NativeChart, ordered: list[Series], theme: Theme) -> None:
    """Error bars on the data series, then target and cumulative lines as combo parts."""
    base_series = list(chart.plots[0].series)
    for spec, series in zip(ordered, base_series, strict=False):
        if _has_whiskers(spec) and role(spec) == "data":
            plus = [None if v is None or h is None else max(0.0, h - v)
                    for v, h in zip(spec.values, spec.high, strict=True)]
            minus = [None if v is None or lo is None else max(0.0, v - lo)
                     for v, lo in zip(spec.values, spec.low, strict=True)]
            colour = TEXT_GREY if native.chart_type != "line" else _rgb(theme.neutral)
            add_error_bars(series._element, plus, minus, str(colour),
                           direction="y" if native.chart_type == "line" else None)
    if native.chart_type == "line":
        moved = [(spec, ser) for spec, ser in zip(ordered, base_series, strict=False)
                 if role(spec) in SECONDARY]
    else:
        moved = [(spec, ser) for spec, ser in zip(ordered, base_series, strict=False)
                 if role(spec) not in IN_BAR_CHART]
    for spec, series in moved:
        plot = move_to_line_chart(chart, series._element, secondary=role(spec) in SECONDARY)
        _style_overlay(plot.series[-1] if plot.series else None, spec, theme)


def _has_whiskers(series: Series) -> bool:
    return any(lo is not None and hi is not None and v is not None
               for v, lo, hi in zip(series.values, series.low, series.high, strict=False))


def _style_overlay(series, spec: Series, theme: Theme) -> None:
    if series is None:
        return
    series.smooth = False
    line = series.format.line
    if role(spec) == "cumulative":
        colour = _rgb(spec.colour or theme.palette[1 % len(theme.palette)])
        line.color.rgb = colour
        line.width = Pt(2.0)
        series.marker.style = XL_MARKER_STYLE.CIRCLE
        series.marker.size = 6
        series.marker.format.fill.solid()
        series.marker.format.fill.fore_color.rgb = colour
        series.marker.format.line.color.rgb = colour
        return
    line.color.rgb = _rgb(spec.colour or theme.neutral)
    line.width = Pt(1.5)
    line.dash_style = MSO_LINE_DASH_STYLE.DASH
    series.marker.style = XL_MARKER_STYLE.NONE


def _style_axes(chart, native: NativeChart,
                bounds: tuple[float, float, float] | None = None) -> None:
    value_axis, category_axis = chart.value_axis, chart.category_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = GRID_GREY
    value_axis.format.line.fill.background()  # gridlines carry the scale; no axis line
    value_axis.tick_labels.number_format = native.number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.tick_labels.font.size = Pt(11)
    if bounds is not None:
        value_axis.minimum_scale, value_axis.maximum_scale = bounds[0], bounds[1]
        value_axis.major_unit = bounds[2]
    elif native.y_min is not None and native.y_max is not None and native.y_max > native.y_min:
        low, high, step = nice_bounds(native.y_min, native.y_max)
        value_axis.minimum_scale, value_axis.maximum_scale = low, high
        value_axis.major_unit = step
    elif native.y_min is not None:
        value_axis.minimum_scale = native.y_min
    elif native.y_max is not None:
        value_axis.maximum_scale = native.y_max
    if native.value_axis_title:
        value_axis.has_title = True
        value_axis.axis_title.text_frame.text = native.value_axis_title
        for paragraph in value_axis.axis_title.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(12)
                run.font.bold = False
    category_axis.format.line.color.rgb = AXIS_GREY
    category_axis.tick_labels.font.size = Pt(11)
    category_axis.has_major_gridlines = False
    if len(native.categories) > MAX_CATEGORY_LABELS and native.chart_type not in HORIZONTAL:
        # Every n-th label only, so a long weekly axis stays readable.
        skip = math.ceil(len(native.categories) / MAX_CATEGORY_LABELS)
        _category_skip(category_axis._element, skip)
    if native.chart_type in ("bar", "stacked_bar"):
        # Horizontal bars read top-down in the order given, like a table.  Reversing the
        # category axis would move the value axis to the top; making it cross at the last
        # category keeps it at the bottom.  python-pptx has no setter for this side.
        category_axis.reverse_order = True
        for crosses in value_axis._element.xpath("./c:crosses"):
            crosses.set("val", "max")
        # Names stay at the left edge when bars run left of zero.
        category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW


def nice_bounds(low: float, high: float, ticks: int = 6) -> tuple[float, float, float]:
    """Axis bounds widened to whole multiples of a 1-2-5 step, and that step.

    PowerPoint starts its gridlines at the axis minimum, so a minimum such as 3,854 (a
    padded data range) would label every gridline with an odd number.  Widening never
    hides a value.  No 2.5 steps: the axis number format is fixed ("0%"), and 77.5%
    would be labelled 78%.
    """
    raw = (high - low) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    nice_low = math.floor(low / step + 1e-9) * step
    nice_high = math.ceil(high / step - 1e-9) * step
    return float(round(nice_low, 12)), float(round(nice_high, 12)), float(round(step, 12))


def is_target(series_name: str) -> bool:
    """A reference line (the metric's target) rather than data, drawn like the PDF draws it."""
    return series_name.strip().lower().endswith("target")


def _colour_series(chart, native: NativeChart, ordered: list[Series], theme: Theme) -> None:
    # Same order as the PDF's charts: the primary colour first, then the palette.
    palette = (theme.primary, *theme.palette[1:])
    plot = chart.plots[0]
    plot.vary_by_categories = False
    line = native.chart_type == "line"
    if not line:
        plot.gap_width = 60
    data_index = 0
    if any(role(s) == "band" for s in ordered):
        plot.overlap = 100  # the band lies behind each bar, not beside it
        plot.gap_width = 30
    for spec, series in zip(ordered, plot.series, strict=False):
        if role(spec) == "band":
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = _rgb(spec.colour) if spec.colour else BAND_GREY
            series.invert_if_negative = False
            continue
        if role(spec) != "data":
            if line and role(spec) == "target":
                _style_overlay(series, spec, theme)
            continue  # moved into a line chart of its own and styled there
        colour = _rgb(spec.colour or palette[data_index % len(palette)])
        alert = _rgb(spec.highlight_colour or theme.bad)
        data_index += 1
        if line:
            series.smooth = False
            series.format.line.color.rgb = colour
            series.format.line.width = Pt(2.5)
            series.marker.style = XL_MARKER_STYLE.CIRCLE
            series.marker.size = 7
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.rgb = colour
            series.marker.format.line.color.rgb = colour
            for index in spec.highlight:
                marker = series.points[index].marker
                marker.style = XL_MARKER_STYLE.CIRCLE
                marker.size = 10
                marker.format.fill.solid()
                marker.format.fill.fore_color.rgb = alert
                marker.format.line.color.rgb = alert
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = colour
            for index in spec.highlight:
                point = series.points[index].format.fill
                point.solid()
                point.fore_color.rgb = alert


def describe(shape, alt_text: str) -> None:
    """Set a shape's alt text (what screen readers and PowerPoint's Alt Text pane show).

    python-pptx has no API for it; it is the ``descr`` attribute of the shape's cNvPr.
    """
    if alt_text:
        shape.element.xpath("./*[1]/p:cNvPr")[0].set("descr", alt_text)


def add_picture(slide: Slide, box: Box, figure: Figure):
    """Add the figure's PNG, as large as fits in ``box`` with its aspect ratio, centred."""
    if not figure.png:
        raise RenderError(f"figure '{figure.id}' has neither a native chart nor a PNG image")
    try:
        px_width, px_height = Image.from_blob(figure.png).size
    except Exception as exc:  # Pillow raises several types for a corrupt image
        raise RenderError(f"figure '{figure.id}': PNG image cannot be read: {exc}") from exc
    scale = min(box.width / px_width, box.height / px_height)
    width, height = round(px_width * scale), round(px_height * scale)
    left = box.left + (box.width - width) // 2
    top = box.top + (box.height - height) // 2
    picture = slide.shapes.add_picture(io.BytesIO(figure.png), Emu(left), Emu(top), Emu(width),
                                       Emu(height))
    picture.name = f"Figure {figure.id}"
    describe(picture, figure.alt_text)
    return picture
