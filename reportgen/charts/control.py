"""Control: a p-chart of a proportion with per-period limits and out-of-control points."""

from __future__ import annotations

import math
from typing import Any

from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from reportgen.charts import CHARTS
from reportgen.charts.base import (
    ChartDataError,
    ChartRequest,
    check_sequence,
    field_of,
    require_details,
)
from reportgen.charts.params import ControlParams
from reportgen.charts.style import (
    MUTED,
    SMALL,
    TINY,
    finish,
    new_figure,
    no_data_figure,
    strong,
    style_axes,
    themed,
    tint,
    value_padding,
)
from reportgen.charts.units import (
    UnitFormatter,
    format_count,
    format_value,
    grain_word,
    number_format,
    plural,
)
from reportgen.report.model.sections import Figure, NativeChart, Series

SHAPE = "{center, points: [{label, p, n, ucl, lcl, out_of_control}]}"
MAX_TICK_LABELS = 13  # more period labels than this overlap at A4 width
# Characters of tick-label text the x axis holds side by side at A4 width: "2026-W05"
# labels fit fewer to the axis than "Sep 26".
AXIS_CHARS = 90
# A first or last period with less than this share of the median n is taken as partial
# (the window cuts a week in two); points may also say so with "partial": true.
PARTIAL_SHARE = 0.6


def partial_points(points: list[dict[str, Any]]) -> set[int]:
    """Indices of partial periods: flagged ones, and thin periods at either end."""
    flagged = {i for i, p in enumerate(points) if p.get("partial")}
    if len(points) < 4:
        return flagged
    ns = sorted(int(p["n"]) for p in points)
    median = ns[len(ns) // 2]
    edges = {0, len(points) - 1}
    return flagged | {i for i in edges if int(points[i]["n"]) < PARTIAL_SHARE * median}
POINT_KEYS = ("label", "p", "n", "ucl", "lcl", "out_of_control")



@CHARTS.register("control")
class ControlChart:
    """p-chart from ``metric.details['p_chart']``."""

    name = "control"
    Params = ControlParams
    description = (
        "A p-chart: each period's proportion against the centre line and its own control "
        "limits, with out-of-control points marked, from metric.details['p_chart']."
    )

    def build(self, request: ChartRequest, params: ControlParams) -> Figure:
        """Draw ``metric.details['p_chart']``."""
        chart = require_details(request, self.name, "p_chart", SHAPE)
        center = field_of(request, self.name, chart, "center", "details['p_chart']")
        points = list(check_sequence(request, self.name,
                                     field_of(request, self.name, chart, "points",
                                              "details['p_chart']"),
                                     "details['p_chart']['points']"))
        for point in points:
            for key in POINT_KEYS:
                field_of(request, self.name, point, key, "details['p_chart'] point")
        if not points:  # no rows in the window: the centre is None too
            return no_data_figure(request, self.name, f"{request.metric.label} control chart")
        if not isinstance(center, int | float):
            raise ChartDataError(request, self.name, expected="a number as the centre line",
                                 found=repr(center))
        partial = partial_points(points)

        with themed(request.theme):
            fig = new_figure()
            ax = fig.add_subplot()
            self._draw(ax, request, params, float(center), points, partial)
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, float(center), points),
                data={
                    "label": tuple(str(p["label"]) for p in points),
                    "p": tuple(float(p["p"]) for p in points),
                    "n": tuple(int(p["n"]) for p in points),
                    "ucl": tuple(float(p["ucl"]) for p in points),
                    "lcl": tuple(float(p["lcl"]) for p in points),
                    "out_of_control": tuple(bool(p["out_of_control"]) for p in points),
                    "center": (float(center),) * len(points),
                },
                caption=(
                    f"p-chart of {request.metric.label}: centre line "
                    f"{format_value(float(center), 'percent')}; the shaded band is each "
                    "period's control limits (wider when n is small). Marked points fall "
                    "outside their limits."
                    + "".join(f" {points[i]['label']} is a partial period (n = "
                              f"{format_count(int(points[i]['n']))}), drawn hollow; the limits "
                              "named on the right are the last complete period's."
                              for i in sorted(partial))
                ),
                native=self._native(request, float(center), points, partial),
            )

    def _native(self, request: ChartRequest, center: float, points: list[dict[str, Any]],
                partial: set[int]) -> NativeChart:
        """The same points, centre line and limits as an editable line chart: the limits
        as dashed lines (a slide chart has no stepped band), none for a partial period,
        whose wide limits would squash the others."""
        theme, metric = request.theme, request.metric
        ps = tuple(float(p["p"]) for p in points)
        complete = [i for i in range(len(points)) if i not in partial] or list(range(len(points)))

        def limits(key: str) -> tuple[float | None, ...]:
            return tuple(float(p[key]) if i in complete else None for i, p in enumerate(points))

        ucl, lcl = limits("ucl"), limits("lcl")
        ends = [*ps, center, *(v for v in (*ucl, *lcl) if v is not None)]
        low, high = value_padding(min(ends), max(ends), "percent", fraction=0.15)
        out = tuple(i for i, p in enumerate(points) if p["out_of_control"])
        caption = (f"p-chart of {metric.label}: centre line {format_value(center, 'percent')}; "
                   "dashed lines: the centre line and each period's upper and lower control "
                   "limits (wider when n is small)." + (" Highlighted points fall outside their limits." if out
                                   else "")
                   + "".join(f" {points[i]['label']} is a partial period (n = "
                             f"{format_count(int(points[i]['n']))}); its limits are not drawn."
                             for i in sorted(partial)))
        return NativeChart(
            chart_type="line",
            categories=tuple(str(p["label"]) for p in points),
            series=(Series(metric.label, ps, highlight=out, highlight_colour=theme.bad),
                    Series("Upper control limit", ucl, role="target", colour=theme.neutral),
                    Series("Centre line", (center,) * len(points), role="target",
                           colour=theme.neutral),
                    Series("Lower control limit", lcl, role="target", colour=theme.neutral)),
            number_format=number_format("percent"),
            value_axis_title=metric.label,
            y_min=max(low, 0.0), y_max=min(high, 1.0),
            caption=caption,
        )

    def _draw(self, ax: Axes, request: ChartRequest, params: ControlParams, center: float,
              points: list[dict[str, Any]], partial: set[int]) -> None:
        theme = request.theme
        xs = list(range(len(points)))
        ps = [float(p["p"]) for p in points]
        ucl = [float(p["ucl"]) for p in points]
        lcl = [float(p["lcl"]) for p in points]
        edges = [x - 0.5 for x in xs] + [len(points) - 0.5]
        ax.stairs(ucl, edges, baseline=lcl, fill=True, color=tint(theme.neutral, 0.88),
                  zorder=1)
        for limits in (ucl, lcl):
            ax.stairs(limits, edges, baseline=None, color=theme.neutral, linewidth=0.9,
                      linestyle=(0, (4, 3)), zorder=2)
        ax.axhline(center, color=theme.neutral, linewidth=1.1, zorder=2)
        ax.plot(xs, ps, color=theme.primary, zorder=3, clip_on=False)
        for x, p in zip(xs, ps, strict=True):
            # A partial period's point is hollow: its small n makes it the least certain.
            ax.plot([x], [p], marker="o", zorder=3, clip_on=False,
                    color=theme.primary, markeredgecolor=theme.primary if x in partial else "white",
                    markerfacecolor="white" if x in partial else theme.primary,
                    markeredgewidth=1.0 if x in partial else 0.8)
        complete = [i for i in xs if i not in partial] or xs
        # The axis follows the complete periods' limits; a partial period's wide band may
        # run off the top or bottom instead of squashing every other week.
        low, high = value_padding(min([*ps, *(lcl[i] for i in complete), center]),
                                  max([*ps, *(ucl[i] for i in complete), center]), "percent",
                                  fraction=0.15)
        ax.set_ylim(max(low, 0.0), min(high, 1.0))
        ax.set_xlim(-0.5, len(points) - 0.5)
        for x, point in zip(xs, points, strict=True):
            if not point["out_of_control"]:
                continue
            p = float(point["p"])
            ax.plot([x], [p], marker="o", markersize=8, color=theme.bad, markeredgecolor="white",
                    markeredgewidth=1.0, zorder=4, clip_on=False)
            if params.annotate:
                above = p > float(point["ucl"])
                ax.annotate(format_value(p, "percent"), (x, p), xytext=(0, 7 if above else -7),
                            textcoords="offset points", ha="center",
                            va="bottom" if above else "top", color=theme.bad,
                            fontproperties=strong(theme, SMALL), zorder=5)
        style_axes(ax, "y")
        ax.grid(False)
        ax.yaxis.set_major_formatter(UnitFormatter("percent"))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        longest = max(len(str(p["label"])) for p in points)
        fit = max(2, min(MAX_TICK_LABELS, AXIS_CHARS // (longest + 2)))
        step = max(1, math.ceil(len(points) / fit))
        # Thin from the right so the latest period always keeps its label.
        keep = {len(points) - 1 - i for i in range(0, len(points), step)}
        ax.set_xticks(xs, [str(p["label"]) if i in keep else "" for i, p in enumerate(points)])
        right = blended_transform_factory(ax.transAxes, ax.transData)
        last = complete[-1]
        for name, value in (("UCL", ucl[last]), ("CL", center), ("LCL", lcl[last])):
            ax.text(1.01, value, f"{name} {format_value(value, 'percent')}", transform=right,
                    ha="left", va="center", fontsize=TINY, color=MUTED)

    def _alt_text(self, request: ChartRequest, center: float, points: list[dict[str, Any]]) -> str:
        metric = request.metric
        periods = [p.period for p in metric.history] if len(metric.history) == len(points) else []
        grain = grain_word(periods)
        labels = [str(p["label"]) for p in points]
        span = (f"over {plural(len(points), grain)} from {labels[0]} to {labels[-1]}"
                if len(points) > 1 else f"for {request.period_label}")
        text = (f"Control chart (p-chart) of {metric.label} {span}, centre line "
                f"{format_value(center, 'percent')}")
        out = [p for p in points if p["out_of_control"]]
        if out:
            listed = ", ".join(f"{p['label']} ({format_value(float(p['p']), 'percent')})"
                               for p in out)
            text += f"; {plural(len(out), 'point')} outside the control limits: {listed}"
        else:
            text += "; all points within the control limits"
        last = points[-1]
        p, ucl, lcl = float(last["p"]), float(last["ucl"]), float(last["lcl"])
        where = "within its limits"
        if last["out_of_control"]:
            where = "above the upper limit" if p >= ucl else "below the lower limit"
        text += (f"; {request.period_label} is {format_value(p, 'percent')}, {where} "
                 f"({format_value(lcl, 'percent')}–{format_value(ucl, 'percent')})")
        return text + "."
