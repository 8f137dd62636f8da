"""Trend: a metric's history as a line, with intervals, target and the current period."""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from reportgen.charts import CHARTS
from reportgen.charts.base import ChartError, ChartRequest
from reportgen.charts.params import TrendParams
from reportgen.charts.style import (
    MUTED,
    NO_DATA_FILL,
    SMALL,
    TINY,
    data_limits,
    finish,
    new_figure,
    no_data_figure,
    off_scale_note,
    strong,
    style_axes,
    target_on_scale,
    themed,
    tint,
)
from reportgen.charts.units import (
    UnitFormatter,
    axis_title,
    format_value,
    grain_word,
    number_format,
    target_phrase,
)
from reportgen.report.model.metric_results import MetricResult, PeriodValue
from reportgen.report.model.sections import Figure, NativeChart, Series
from reportgen.text import terms

MAX_TICK_LABELS = 13  # more month labels than this overlap at A4 width



@dataclass(frozen=True)
class _Line:
    """One metric's history aligned to the chart's periods (None where there is no value)."""

    metric: MetricResult
    values: tuple[float | None, ...]
    lows: tuple[float | None, ...]
    highs: tuple[float | None, ...]
    ns: tuple[int | None, ...]
    suppressed: tuple[str | None, ...]


def _shown(point: PeriodValue | None) -> float | None:
    if point is None or point.suppressed is not None or point.value is None:
        return None
    return point.value


def _align(metric: MetricResult, periods: list[str], show_interval: bool) -> _Line:
    by_period = {p.period: p for p in metric.history}
    points = [by_period.get(key) for key in periods]
    values = tuple(_shown(p) for p in points)
    lows = tuple(
        p.interval.low if show_interval and p and p.interval and v is not None else None
        for p, v in zip(points, values, strict=True)
    )
    highs = tuple(
        p.interval.high if show_interval and p and p.interval and v is not None else None
        for p, v in zip(points, values, strict=True)
    )
    reasons = tuple(
        (p.suppressed or "no value") if p is not None and v is None else None
        for p, v in zip(points, values, strict=True)
    )
    return _Line(metric, values, lows, highs, tuple(p.n if p else None for p in points), reasons)


@CHARTS.register("trend")
class TrendChart:
    """Line chart of a metric over its history."""

    name = "trend"
    Params = TrendParams
    description = (
        "A metric's history as a line with interval whiskers, the target and the current "
        "period labelled; extra metrics of the same unit become extra lines."
    )

    def build(self, request: ChartRequest, params: TrendParams) -> Figure:
        """Draw the trend of ``request.metrics`` (all must share the primary's unit)."""
        metric = request.metric
        if not metric.history:
            return no_data_figure(request, self.name, f"{metric.label} history")
        for other in request.metrics[1:]:
            if other.unit != metric.unit:
                raise ChartError(
                    request.id, self.name,
                    f"metric '{other.metric_id}' is in {other.unit} but '{metric.metric_id}' "
                    f"is in {metric.unit}; draw metrics of one unit per trend chart",
                )
        # Every metric's periods, in date order, form the axis; each line is matched by key.
        starts = {p.period: (p.start, p.label) for m in request.metrics for p in m.history}
        periods = sorted(starts, key=lambda key: starts[key][0])
        labels = [starts[key][1] for key in periods]
        lines = [_align(m, periods, params.show_interval) for m in request.metrics]
        target = metric.target if params.show_target else None
        drawn = [v for line in lines for v in (*line.values, *line.lows, *line.highs)
                 if v is not None]
        if not drawn:
            return no_data_figure(request, self.name, f"{metric.label} history")
        off_scale = ""
        if target is not None and not target_on_scale(target, drawn):
            off_scale = off_scale_note(target, drawn, format_value(target, metric.unit))
            target = None

        with themed(request.theme):
            fig = new_figure()
            ax = fig.add_subplot()
            ylim = self._draw(ax, request, lines, labels, target)
            if len(lines) > 1:
                fig.legend(loc="outside upper left", ncols=len(lines), handlelength=1.6)
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, lines, labels, periods, target),
                data=self._data(periods, labels, lines, target),
                caption=self._caption(request, lines, labels, periods, target, off_scale),
                native=NativeChart(
                    chart_type="line",
                    categories=tuple(labels),
                    series=tuple(Series(line.metric.label, line.values, low=line.lows,
                                        high=line.highs) for line in lines)
                    + ((Series("Target", (target,) * len(labels), role="target"),)
                       if target is not None else ()),
                    number_format=number_format(metric.unit),
                    value_axis_title=axis_title(metric),
                    y_min=ylim[0],
                    y_max=ylim[1],
                ),
            )

    def _draw(self, ax: Axes, request: ChartRequest, lines: list[_Line], labels: list[str],
              target: float | None) -> tuple[float, float]:
        theme, metric = request.theme, request.metric
        xs = list(range(len(labels)))
        # The palette's first colour plays the primary's role; later series take the rest.
        colours = [theme.primary, *theme.palette[1:]]
        drawn: list[float] = [target] if target is not None else []
        for index, line in enumerate(lines):
            colour = colours[index % len(colours)]
            drawn += [v for v in (*line.values, *line.lows, *line.highs) if v is not None]
            whiskers = [(x, lo, hi) for x, lo, hi in zip(xs, line.lows, line.highs, strict=True)
                        if lo is not None and hi is not None]
            if whiskers:
                wx, wlo, whi = zip(*whiskers, strict=True)
                ax.vlines(wx, wlo, whi, colors=[tint(colour, 0.65)], linewidth=1.3, zorder=2)
            ys = [math.nan if v is None else v for v in line.values]
            ax.plot(xs, ys, color=colour, marker="o", markeredgecolor="white",
                    markeredgewidth=0.8, zorder=3, label=line.metric.label, clip_on=False)
        low, high = data_limits(min(drawn, default=0.0), max(drawn, default=1.0), metric.unit,
                                fraction=0.12, include_zero=metric.unit == "count")
        ax.set_ylim(low, high)
        # Room right of the last point for its value label.
        ax.set_xlim(-0.5, len(labels) - 1 + max(0.5, 0.085 * len(labels) + 0.15))
        style_axes(ax, "y")
        ax.yaxis.set_major_formatter(UnitFormatter(metric.unit))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        if metric.unit != "percent":
            ax.set_ylabel(axis_title(metric), color=MUTED, fontsize=SMALL)
        step = max(1, math.ceil(len(labels) / MAX_TICK_LABELS))
        # Thin from the right so the current period always keeps its label.
        keep = {len(labels) - 1 - i for i in range(0, len(labels), step)}
        ax.set_xticks(xs, [lab if i in keep else "" for i, lab in enumerate(labels)])

        primary = lines[0]
        for x, reason in enumerate(primary.suppressed):
            if reason is not None:
                # A gap keeps its place on the axis and says why it is empty.
                ax.axvspan(x - 0.4, x + 0.4, color=NO_DATA_FILL, zorder=0, linewidth=0)
                ax.text(x, 0.04, "n/a", ha="center", va="bottom", fontsize=TINY, color=MUTED,
                        transform=blended_transform_factory(ax.transData, ax.transAxes))
        if target is not None:
            ax.axhline(target, color=theme.neutral, linestyle=(0, (4, 3)), linewidth=1.0, zorder=1)
            name = "Target" if len(lines) == 1 else f"{metric.label}\ntarget"
            ax.text(1.01, target, f"{name}\n{format_value(target, metric.unit)}",
                    transform=blended_transform_factory(ax.transAxes, ax.transData),
                    ha="left", va="center", fontsize=TINY, color=theme.neutral, linespacing=1.1)
        for index, line in enumerate(lines):
            self._label_current(ax, request, line, colours[index % len(colours)], big=index == 0)
        return low, high

    def _label_current(self, ax: Axes, request: ChartRequest, line: _Line, colour: str,
                       big: bool) -> None:
        last = len(line.values) - 1
        value = line.values[last]
        if value is None:
            return
        if big:
            ax.plot([last], [value], marker="o", markersize=8, color=colour,
                    markeredgecolor="white", markeredgewidth=1.2, zorder=4, clip_on=False)
        # Right of the point: the interval whisker runs above and below it.
        ax.annotate(format_value(value, line.metric.unit), (last, value),
                    xytext=(7 if big else 5, 0), textcoords="offset points", ha="left",
                    va="center", color=colour, zorder=5,
                    fontproperties=strong(request.theme, 8.0 if big else SMALL))

    def _data(self, periods: list[str], labels: list[str], lines: list[_Line],
              target: float | None) -> dict[str, tuple[object, ...]]:
        data: dict[str, tuple[object, ...]] = {"period": tuple(periods), "label": tuple(labels)}
        for line in lines:
            key = line.metric.metric_id
            data[key] = line.values
            data[f"{key}_low"] = line.lows
            data[f"{key}_high"] = line.highs
            data[f"{key}_n"] = line.ns
        if target is not None:
            data["target"] = (target,) * len(periods)
        return data

    def _alt_text(self, request: ChartRequest, lines: list[_Line], labels: list[str],
                  periods: list[str], target: float | None) -> str:
        metric, line = request.metric, lines[0]
        grain = grain_word(periods)
        if len(labels) == 1:
            head = (f"Line chart of {metric.label} for {request.period_label} "
                    f"(one {grain} of history)")
        else:
            head = f"Line chart of {metric.label} by {grain} from {labels[0]} to {labels[-1]}"
        latest = line.values[-1]
        if latest is None:
            reason = line.suppressed[-1] or "no value"
            now = f"{request.period_label} has no reported value ({reason})"
        else:
            now = f"{request.period_label} is {format_value(latest, metric.unit)}"
            previous = [(v, lab) for v, lab in zip(line.values[:-1], labels[:-1], strict=True)
                        if v is not None]
            if previous:
                before, when = previous[-1]
                if latest == before:
                    now += f", unchanged from {when}"
                else:
                    word = "down" if latest < before else "up"
                    now += f", {word} from {format_value(before, metric.unit)} in {when}"
            phrase = target_phrase(latest, target, metric.unit)
            now += f", {phrase}" if phrase else ""
        others = "".join(
            f"; also shown: {o.metric.label} at {format_value(o.values[-1], o.metric.unit)}"
            for o in lines[1:]
        )
        return f"{head}; {now}{others}."

    def _caption(self, request: ChartRequest, lines: list[_Line], labels: list[str],
                 periods: list[str], target: float | None, off_scale: str = "") -> str:
        metric, line = request.metric, lines[0]
        parts = [f"{metric.label} by {grain_word(periods)}, {labels[0]} – {labels[-1]}."
                 if len(labels) > 1 else f"{metric.label}, {labels[0]}."]
        if any(lo is not None for lo in line.lows):
            parts.append(terms.whiskers(p.interval.level for p in metric.history
                                             if p.interval))
        if target is not None:
            parts.append(f"Dashed line: target {format_value(target, metric.unit)}.")
        if off_scale:
            parts.append(off_scale)
        gaps = [f"{lab} ({reason})" for lab, reason in zip(labels, line.suppressed, strict=True)
                if reason is not None]
        if gaps:
            parts.append("Not shown: " + "; ".join(gaps) + ".")
        return " ".join(parts)
