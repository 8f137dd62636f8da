"""Bar: a metric across the segments of one breakdown, best first."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from reportgen.charts import CHARTS
from reportgen.charts.base import (
    ChartRequest,
    breakdown_rows,
    by_columns,
    by_words,
    empty_breakdown,
    hidden_note,
    is_shown,
)
from reportgen.charts.params import BarParams
from reportgen.charts.style import (
    HEIGHT_IN,
    INK,
    MUTED,
    SMALL,
    TINY,
    WIDTH_IN,
    GridAxis,
    finish,
    height_for,
    new_figure,
    no_data_figure,
    off_scale_note,
    strong,
    style_axes,
    target_on_scale,
    themed,
    wrap,
)
from reportgen.charts.units import (
    UnitFormatter,
    axis_title,
    format_count,
    format_value,
    number_format,
    plural,
)
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.sections import Figure, NativeChart, Series
from reportgen.text import terms

BAR_THICKNESS = 0.62



def rank(rows: tuple[BreakdownRow, ...], metric: MetricResult) -> list[BreakdownRow]:
    """Rows with a value, best first by the metric's direction (ties by label)."""
    sign = -1.0 if metric.direction == "higher" else 1.0
    shown = (r for r in rows if is_shown(r))
    return sorted(shown, key=lambda r: (sign * (r.value or 0.0), r.label))


@CHARTS.register("bar")
class BarChart:
    """Bar chart of one breakdown of a metric."""

    name = "bar"
    Params = BarParams
    description = (
        "A metric across the segments of a breakdown, best first, with n on each bar, "
        "interval whiskers and the target; suppressed segments are labelled gaps."
    )

    def build(self, request: ChartRequest, params: BarParams) -> Figure:
        """Draw ``metric.breakdowns[params.by]`` as ranked bars."""
        metric = request.metric
        rows = breakdown_rows(request, self.name, params.by)
        what = f"{metric.label} by {by_words(params.by)}"
        ranked = rank(rows, metric)
        if not ranked:
            return no_data_figure(request, self.name, what,
                                  **empty_breakdown(request.metric, params.by, rows))
        left_out = ranked[params.top:] if params.top else []
        shown = ranked[: params.top] if params.top else ranked
        # With a top-N cut the gaps would not rank anywhere, so they go to the caption only.
        gaps = [] if params.top else [r for r in rows if not is_shown(r)]
        drawn = [*shown, *gaps]
        target = metric.target if params.show_target else None
        off_scale = ""
        values_drawn = [r.value or 0.0 for r in shown]
        if target is not None and not target_on_scale(target, values_drawn, zero_based=True):
            off_scale = off_scale_note(target, values_drawn, format_value(target, metric.unit))
            target = None

        with themed(request.theme):
            if params.horizontal:
                fig = new_figure(WIDTH_IN, height_for(len(drawn), 0.26, 0.75, low=2.0))
            else:
                fig = new_figure(WIDTH_IN, HEIGHT_IN)
            ax = fig.add_subplot()
            floor = self._draw(ax, request, params, drawn, target)
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, params, shown, gaps, left_out, target),
                data=self._data(params, drawn, target),
                caption=self._caption(request, params, rows, shown, left_out, target, off_scale),
                native=self._native(request, params, drawn, target, floor,
                                    self._alt_text(request, params, shown, gaps, left_out,
                                                   target, horizontal=False)),
            )

    def _native(self, request: ChartRequest, params: BarParams, drawn: list[BreakdownRow],
                target: float | None, floor: float, column_alt_text: str) -> NativeChart:
        """The same bars, whiskers, highlights and target line as an editable chart.

        A slide chart cannot lay a target line across horizontal bars, so with a target the
        deck draws columns (a landscape slide has the width for them).
        """
        metric = request.metric
        intervals = [r.interval if params.show_interval and is_shown(r) else None for r in drawn]
        data = Series(
            metric.label, tuple(r.value if is_shown(r) else None for r in drawn),
            low=tuple(i.low if i else None for i in intervals),
            high=tuple(i.high if i else None for i in intervals),
            highlight=tuple(i for i, r in enumerate(drawn)
                            if is_shown(r) and r.status == "off_target"),
            highlight_colour=request.theme.bad,
        )
        overlays = (Series("Target", (target,) * len(drawn), role="target"),) \
            if target is not None else ()
        # The slide's value axis must reach the whisker tops and the target too; a chart
        # application scales to the bars alone.
        ends = [v for v in (*data.values, *data.high, target) if v is not None]
        horizontal = params.horizontal and target is None
        return NativeChart(
            chart_type="bar" if horizontal else "column",
            # the notes and screen readers describe the columns drawn, not the PDF's bars
            alt_text=column_alt_text if params.horizontal and not horizontal else "",
            categories=tuple(r.label for r in drawn),
            series=(data, *overlays),
            number_format=number_format(metric.unit),
            value_axis_title=axis_title(metric),
            y_min=floor,
            y_max=_axis_top(ends, floor, metric.unit),
        )

    def _draw(self, ax: Axes, request: ChartRequest, params: BarParams,
              drawn: list[BreakdownRow], target: float | None) -> float:
        """Draw the bars and labels; return the value axis' lower limit."""
        theme, metric = request.theme, request.metric
        positions = list(range(len(drawn)))
        values = [(r.value or 0.0) if is_shown(r) else 0.0 for r in drawn]
        colours = [theme.bad if r.status == "off_target" else theme.primary for r in drawn]
        ends = [
            (r.interval.high if params.show_interval and r.interval else r.value or 0.0)
            for r in drawn if is_shown(r)
        ]
        reach = max([*ends, *([target] if target is not None else []), 0.0])
        floor = min([0.0, *values])
        # Headroom past the longest bar for its value label.
        limit = reach + (reach - floor) * (0.16 if params.horizontal else 0.12) or 1.0

        value_axis: Axis
        grid: GridAxis
        if params.horizontal:
            ax.barh(positions, values, height=BAR_THICKNESS, color=colours, zorder=2)
            ax.set_ylim(len(drawn) - 0.5, -0.5)  # best at the top
            ax.set_xlim(floor, limit)
            value_axis, grid = ax.xaxis, "x"
            ax.set_yticks(positions, [wrap(r.label, 24) for r in drawn], color=INK,
                          fontsize=SMALL)
        else:
            ax.bar(positions, values, width=BAR_THICKNESS, color=colours, zorder=2)
            ax.set_xlim(-0.5, len(drawn) - 0.5)
            ax.set_ylim(floor, limit)
            value_axis, grid = ax.yaxis, "y"
            ax.set_xticks(positions, [f"{wrap(r.label, 14)}\nn = {format_count(r.n)}"
                                      for r in drawn], fontsize=SMALL)
        style_axes(ax, grid)
        value_axis.set_major_formatter(UnitFormatter(metric.unit))
        locator = MaxNLocator(nbins=5, steps=[1, 2, 5, 10])
        ticks = [t for t in locator.tick_values(floor, reach) if floor <= t <= limit]
        if metric.unit == "percent":
            ticks = [t for t in ticks if t <= 1.0]  # no "110%" tick in the label headroom
        value_axis.set_ticks(ticks)
        if metric.unit != "percent":
            (ax.set_xlabel if params.horizontal else ax.set_ylabel)(
                axis_title(metric), color=MUTED, fontsize=SMALL)

        for pos, row in zip(positions, drawn, strict=True):
            self._label(ax, request, params, pos, row)
        if target is not None:
            line = ax.axvline if params.horizontal else ax.axhline
            line(target, color=theme.neutral, linestyle=(0, (4, 3)), linewidth=1.0, zorder=3)
            text = f"Target {format_value(target, metric.unit)}"
            if params.horizontal:
                ax.text(target, 1.0, text, transform=blended_transform_factory(
                    ax.transData, ax.transAxes), ha="center", va="bottom", fontsize=TINY,
                    color=theme.neutral)
            else:
                ax.text(1.0, target, " " + text, transform=blended_transform_factory(
                    ax.transAxes, ax.transData), ha="left", va="center", fontsize=TINY,
                    color=theme.neutral)
        return floor

    def _label(self, ax: Axes, request: ChartRequest, params: BarParams, pos: int,
               row: BreakdownRow) -> None:
        metric, horizontal = request.metric, params.horizontal
        if horizontal:
            # n sits in a column right of the plot, so labels line up whatever the bar length.
            ax.text(1.01, pos, f"n = {format_count(row.n)}", transform=blended_transform_factory(
                ax.transAxes, ax.transData), ha="left", va="center", fontsize=TINY, color=MUTED)
        if not is_shown(row):
            reason = f"suppressed ({row.suppressed})" if row.suppressed else "no value"
            ax.annotate(reason if horizontal else wrap(reason, 12, 3),
                        (0, pos) if horizontal else (pos, 0),
                        xytext=(4, 0) if horizontal else (0, 4), textcoords="offset points",
                        ha="left" if horizontal else "center",
                        va="center" if horizontal else "bottom",
                        fontsize=TINY, color=MUTED, fontstyle="italic")
            return
        value = row.value or 0.0
        end = value
        if params.show_interval and row.interval is not None:
            low, high = row.interval.low, row.interval.high
            if horizontal:
                ax.hlines(pos, low, high, color=INK, linewidth=0.9, zorder=3)
            else:
                ax.vlines(pos, low, high, color=INK, linewidth=0.9, zorder=3)
            end = max(value, high)
        ax.annotate(format_value(value, metric.unit), (end, pos) if horizontal else (pos, end),
                    xytext=(4, 0) if horizontal else (0, 3), textcoords="offset points",
                    ha="left" if horizontal else "center", va="center" if horizontal else "bottom",
                    fontproperties=strong(request.theme, SMALL), color=INK, zorder=4,
                    # A white backing keeps the label readable where the target line crosses.
                    bbox={"boxstyle": "square,pad=0.12", "facecolor": "white",
                          "edgecolor": "none"})

    def _data(self, params: BarParams, drawn: list[BreakdownRow],
              target: float | None) -> dict[str, tuple[object, ...]]:
        columns = by_columns(params.by)
        data: dict[str, tuple[object, ...]] = {}
        for index, column in enumerate(columns):
            data[column] = tuple(r.key[index] if index < len(r.key) else "" for r in drawn)
        data["label"] = tuple(r.label for r in drawn)
        data["value"] = tuple(r.value if is_shown(r) else None for r in drawn)
        data["n"] = tuple(r.n for r in drawn)
        data["low"] = tuple(r.interval.low if r.interval and is_shown(r) and params.show_interval
                            else None for r in drawn)
        data["high"] = tuple(r.interval.high if r.interval and is_shown(r) and params.show_interval
                             else None for r in drawn)
        data["status"] = tuple(r.status for r in drawn)
        data["suppressed"] = tuple(r.suppressed for r in drawn)
        if target is not None:
            data["target"] = (target,) * len(drawn)
        return data

    def _alt_text(self, request: ChartRequest, params: BarParams, shown: list[BreakdownRow],
                  gaps: list[BreakdownRow], left_out: list[BreakdownRow],
                  target: float | None, horizontal: bool | None = None) -> str:
        metric = request.metric
        unit = metric.unit
        across = params.horizontal if horizontal is None else horizontal
        shape = "Horizontal bar chart" if across else "Column chart"
        segments = by_words(params.by)
        text = f"{shape} of {metric.label} by {segments} for {request.period_label}, best first"
        best, worst = shown[0], shown[-1]
        text += (f": {best.label} is best at {format_value(best.value, unit)} "
                 f"(n = {format_count(best.n)})")
        if len(shown) > 1:
            text += (f" and {worst.label} is {'worst' if not left_out else 'last shown'} at "
                     f"{format_value(worst.value, unit)} (n = {format_count(worst.n)})")
        extras = []
        if metric.value is not None:
            extras.append(f"overall {format_value(metric.value, unit)}")
        if target is not None:
            extras.append(f"target {format_value(target, unit)}")
        text += ("; " + ", ".join(extras)) if extras else ""
        if gaps:
            text += f"; {plural(len(gaps), 'segment')} suppressed for small n"
        if left_out:
            text += f"; {len(left_out)} more not shown"
        return text + "."

    def _caption(self, request: ChartRequest, params: BarParams, rows: tuple[BreakdownRow, ...],
                 shown: list[BreakdownRow], left_out: list[BreakdownRow],
                 target: float | None, off_scale: str = "") -> str:
        metric = request.metric
        parts = [f"{metric.label} by {by_words(params.by)}, {request.period_label}, best first."]
        if left_out:
            parts.append(f"Top {len(shown)} of {len(shown) + len(left_out)} shown.")
        levels = {r.interval.level for r in shown if r.interval}
        if params.show_interval and levels:
            parts.append(terms.whiskers(levels))
        if target is not None:
            parts.append(f"Dashed line: target {format_value(target, metric.unit)}.")
        if off_scale:
            parts.append(off_scale)
        if any(r.status == "off_target" for r in shown):
            parts.append("Highlighted bars are off target.")
        note = hidden_note(rows)
        return " ".join([*parts, note] if note else parts)


def _axis_top(ends: list[float], floor: float, unit: str) -> float | None:
    """The top of a slide chart's value axis: a little above the highest drawn end."""
    if not any(e > floor for e in ends):
        return None
    top = max(ends) + (max(ends) - floor) * 0.05
    return min(top, 1.0) if unit == "percent" and max(ends) <= 1.0 else top
