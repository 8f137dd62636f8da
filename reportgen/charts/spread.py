"""Spread: agent scores as a box with every agent's point, optionally per group."""

from __future__ import annotations

from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from reportgen.charts import CHARTS
from reportgen.charts.base import (
    ChartDataError,
    ChartRequest,
    breakdown_rows,
    by_columns,
    by_words,
    hidden_note,
    is_shown,
)
from reportgen.charts.params import SpreadParams
from reportgen.charts.style import (
    INK,
    MUTED,
    SMALL,
    TINY,
    WIDTH_IN,
    finish,
    height_for,
    new_figure,
    no_data_figure,
    off_scale_note,
    style_axes,
    target_on_scale,
    themed,
    tint,
    value_padding,
    wrap,
)
from reportgen.charts.units import (
    UnitFormatter,
    axis_title,
    format_value,
    plural,
)
from reportgen.report.model.metric_results import BreakdownRow
from reportgen.report.model.sections import Figure

_MPL_VERSION = tuple(int(part) for part in matplotlib.__version__.split(".")[:2])

GOLDEN = 0.6180339887498949  # spreads strip points evenly without random jitter
# ``vert`` is deprecated from matplotlib 3.10, where ``orientation`` replaces it.
_HORIZONTAL: dict[str, Any] = (
    {"orientation": "horizontal"} if _MPL_VERSION >= (3, 10) else {"vert": False}
)



def _noun(by: str) -> str:
    """What one row is, from the last breakdown column: ``agent_id`` -> ``agent``."""
    return by_columns(by)[-1].removesuffix("_id").replace("_", " ") or "agent"


def _offsets(count: int, width: float = 0.5) -> list[float]:
    # Deterministic jitter: the same data always draws the same picture.
    return [((i * GOLDEN) % 1.0 - 0.5) * width for i in range(count)]


@CHARTS.register("spread")
class SpreadChart:
    """Box and strip plot of per-agent values."""

    name = "spread"
    Params = SpreadParams
    description = (
        "The spread of per-agent values as a box with every agent's point; with a "
        "two-column breakdown the first column groups the boxes. Target line, n noted."
    )

    def build(self, request: ChartRequest, params: SpreadParams) -> Figure:
        """Draw ``metric.breakdowns[params.by]`` as one box per group."""
        metric = request.metric
        columns = by_columns(params.by)
        if len(columns) > 2:
            raise ChartDataError(request, self.name,
                                 expected="a breakdown by agent, or by group and agent",
                                 found=f"by = {params.by!r}")
        rows = breakdown_rows(request, self.name, params.by)
        grouped = len(columns) == 2
        shown = [r for r in rows if is_shown(r)]
        if not shown:
            return no_data_figure(request, self.name, f"{metric.label} by {by_words(params.by)}",
                                  note=hidden_note(rows))
        groups: dict[str, list[BreakdownRow]] = {}
        for row in shown:
            groups.setdefault(row.key[0] if grouped else metric.label, []).append(row)
        target = metric.target if params.show_target else None
        off_scale = ""
        values = [r.value or 0.0 for r in shown]
        if target is not None and not target_on_scale(target, values):
            off_scale = off_scale_note(target, values, format_value(target, metric.unit))
            target = None
        noun = _noun(params.by)

        with themed(request.theme):
            fig = new_figure(WIDTH_IN, height_for(len(groups), per_row=0.55, base=0.7,
                                                  low=1.8 if len(groups) == 1 else 2.4))
            ax = fig.add_subplot()
            self._draw(ax, request, groups, target, noun)
            hidden = [r for r in rows if not is_shown(r)]
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, params, groups, shown, hidden, target, noun),
                data={
                    "group": tuple(r.key[0] if grouped else metric.label for r in shown),
                    columns[-1]: tuple(r.key[-1] for r in shown),
                    "value": tuple(r.value for r in shown),
                    "n": tuple(r.n for r in shown),
                },
                caption=self._caption(request, shown, hidden, target, noun, off_scale),
            )

    def _draw(self, ax: Axes, request: ChartRequest, groups: dict[str, list[BreakdownRow]],
              target: float | None, noun: str) -> None:
        theme, metric = request.theme, request.metric
        names = list(groups)
        positions = list(range(len(names)))
        series = [[r.value or 0.0 for r in groups[name]] for name in names]
        # The box pictures the dots drawn over it; no number read from it is reported.
        ax.boxplot(
            series, positions=positions, widths=0.55, **_HORIZONTAL,
            showfliers=False, patch_artist=True, whis=(0, 100),
            boxprops={"facecolor": tint(theme.primary, 0.88), "edgecolor": tint(theme.primary, 0.4),
                      "linewidth": 0.9},
            medianprops={"color": theme.primary, "linewidth": 1.8},
            whiskerprops={"color": tint(theme.primary, 0.4), "linewidth": 0.9},
            capprops={"color": tint(theme.primary, 0.4), "linewidth": 0.9},
        )
        for pos, name in zip(positions, names, strict=True):
            rows = groups[name]
            jitter = _offsets(len(rows), 0.42)
            colours = [theme.bad if r.status == "off_target" else theme.primary for r in rows]
            # Unclipped: a perfect 100 sits on the axis end and must still show as a whole dot.
            ax.scatter([r.value or 0.0 for r in rows], [pos + j for j in jitter], s=13, c=colours,
                       alpha=0.9, edgecolors="white", linewidths=0.4, zorder=3, clip_on=False)
        values = [v for s in series for v in s]
        low, high = value_padding(min([*values, *([target] if target is not None else [])]),
                                  max([*values, *([target] if target is not None else [])]),
                                  metric.unit, fraction=0.06)
        if metric.unit == "percent":
            low, high = max(low, 0.0), min(high, 1.0)
        elif metric.unit == "score":
            low, high = max(low, 0.0), min(high, 100.0)
        ax.set_xlim(low, high)
        ax.set_ylim(len(names) - 0.5, -0.5)
        style_axes(ax, "x")
        ax.spines["left"].set_visible(False)
        ax.xaxis.set_major_formatter(UnitFormatter(metric.unit))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
        ax.set_yticks(positions, [f"{wrap(name, 20)}\n" for name in names], color=INK,
                      fontsize=SMALL, va="center")
        side = blended_transform_factory(ax.transAxes, ax.transData)
        for pos, name in zip(positions, names, strict=True):
            # The n under each group name counts what the box summarises.
            ax.annotate(plural(len(groups[name]), noun), (0, pos), xycoords=side,
                        xytext=(-8, -6), textcoords="offset points", ha="right", va="center",
                        fontsize=TINY, color=MUTED)
        if metric.unit != "percent":
            ax.set_xlabel(axis_title(metric), color=MUTED, fontsize=SMALL)
        if target is not None:
            ax.axvline(target, color=theme.neutral, linestyle=(0, (4, 3)), linewidth=1.0, zorder=2)
            ax.text(target, 1.0, f"Target {format_value(target, metric.unit)}",
                    transform=blended_transform_factory(ax.transData, ax.transAxes),
                    ha="center", va="bottom", fontsize=TINY, color=theme.neutral)

    def _alt_text(self, request: ChartRequest, params: SpreadParams,
                  groups: dict[str, list[BreakdownRow]], shown: list[BreakdownRow],
                  hidden: list[BreakdownRow], target: float | None, noun: str) -> str:
        metric, unit = request.metric, request.metric.unit
        values = [r.value or 0.0 for r in shown]
        text = f"Box and strip plot of {metric.label} for {plural(len(shown), noun)}"
        if len(groups) > 1:
            text += f" in {plural(len(groups), by_columns(params.by)[0].replace('_', ' '))}"
        text += (f", {request.period_label}: values range from {format_value(min(values), unit)} "
                 f"to {format_value(max(values), unit)}")
        if metric.value is not None:
            text += f"; overall {format_value(metric.value, unit)}"
        if target is not None:
            text += f", target {format_value(target, unit)}"
        if hidden:
            text += f"; {plural(len(hidden), noun)} not shown (suppressed for small n)"
        return text + "."

    def _caption(self, request: ChartRequest, shown: list[BreakdownRow],
                 hidden: list[BreakdownRow], target: float | None, noun: str,
                 off_scale: str = "") -> str:
        metric = request.metric
        parts = [f"{metric.label} per {noun}, {request.period_label}: each dot is one {noun}; "
                 "the box spans the middle half, the line inside it is the median, whiskers "
                 "reach the lowest and highest."]
        if target is not None:
            parts.append(f"Dashed line: target {format_value(target, metric.unit)}.")
        if off_scale:
            parts.append(off_scale)
        if any(r.status == "off_target" for r in shown):
            parts.append("Highlighted dots are off target.")
        if hidden:
            listed = "; ".join(f"{r.label} ({r.suppressed or 'no value'})" for r in hidden)
            parts.append(f"Not shown: {listed}.")
        return " ".join(parts)

