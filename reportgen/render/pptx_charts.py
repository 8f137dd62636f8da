"""Figures on slides: native, editable PowerPoint charts, or the figure's PNG.

A native chart carries its data in an embedded workbook, so the audience can restyle it
or read the values; its categories and values are exactly the ``NativeChart`` ones.
Series colours come from the report theme's palette so the deck matches the PDF's
matplotlib charts; everything else (fonts) follows the master's theme.
"""

from __future__ import annotations

import io
import math

from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.chart import XL_DATA_LABEL_POSITION as LABEL_POS
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.parts.image import Image
from pptx.slide import Slide
from pptx.util import Pt

from reportgen.errors import RenderError
from reportgen.model import Figure, NativeChart, Theme
from reportgen.render.pptx_slides import Box

CHART_TYPES = {
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "bar": XL_CHART_TYPE.BAR_CLUSTERED,
    "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
    "stacked_column": XL_CHART_TYPE.COLUMN_STACKED,
    "stacked_bar": XL_CHART_TYPE.BAR_STACKED,
    "percent_stacked_column": XL_CHART_TYPE.COLUMN_STACKED_100,
}
AXIS_GREY = RGBColor(0x8A, 0x94, 0xA3)
GRID_GREY = RGBColor(0xE3, 0xE7, 0xEC)
TEXT_GREY = RGBColor(0x3E, 0x48, 0x55)
# Data labels help only while they do not collide: a single series with few bars.
MAX_LABELLED_CATEGORIES = 12


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
    return native


def add_native_chart(slide: Slide, box: Box, figure: Figure, theme: Theme):
    """Add ``figure.native`` as an editable chart filling ``box``; return the graphic frame."""
    native = check_native(figure)
    data = CategoryChartData(number_format=native.number_format)
    data.categories = list(native.categories)
    for series in native.series:
        data.add_series(series.name, list(series.values), number_format=native.number_format)
    frame = slide.shapes.add_chart(CHART_TYPES[native.chart_type], box.left, box.top,
                                   box.width, box.height, data)
    frame.name = f"Chart {figure.id}"
    describe(frame, figure.alt_text)
    chart = frame.chart
    chart.font.size = Pt(12)
    chart.font.color.rgb = TEXT_GREY
    chart.has_title = False  # the slide title names the chart
    chart.has_legend = len(native.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(12)
    _style_axes(chart, native)
    _colour_series(chart, native, theme)
    return frame


def _style_axes(chart, native: NativeChart) -> None:
    value_axis, category_axis = chart.value_axis, chart.category_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = GRID_GREY
    value_axis.format.line.fill.background()  # gridlines carry the scale; no axis line
    value_axis.tick_labels.number_format = native.number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.tick_labels.font.size = Pt(11)
    if native.y_min is not None and native.y_max is not None and native.y_max > native.y_min:
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
    if native.chart_type in ("bar", "stacked_bar"):
        # Horizontal bars read top-down in the order given, like a table.  Reversing the
        # category axis would move the value axis to the top; making it cross at the last
        # category keeps it at the bottom.  python-pptx has no setter for this side.
        category_axis.reverse_order = True
        for crosses in value_axis._element.xpath("./c:crosses"):
            crosses.set("val", "max")


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


def _colour_series(chart, native: NativeChart, theme: Theme) -> None:
    # Same order as the PDF's charts: the primary colour first, then the palette.
    palette = (theme.primary, *theme.palette[1:])
    plot = chart.plots[0]
    plot.vary_by_categories = False
    line = native.chart_type == "line"
    if not line:
        plot.gap_width = 60
    data_index = 0
    for series in plot.series:
        if line and is_target(series.name):
            series.smooth = False
            series.format.line.color.rgb = _rgb(theme.neutral)
            series.format.line.width = Pt(1.5)
            series.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
            series.marker.style = XL_MARKER_STYLE.NONE
            continue
        colour = _rgb(palette[data_index % len(palette)])
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
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = colour
    clustered = native.chart_type in ("bar", "column")
    if clustered and len(native.series) == 1 and len(native.categories) <= MAX_LABELLED_CATEGORIES:
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = native.number_format
        labels.number_format_is_linked = False
        labels.position = LABEL_POS.OUTSIDE_END
        labels.font.size = Pt(11)


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
    picture = slide.shapes.add_picture(io.BytesIO(figure.png), left, top, width, height)
    picture.name = f"Figure {figure.id}"
    describe(picture, figure.alt_text)
    return picture
