"""Distribution: how responses spread over ordered categories, period by period."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D

from reportgen.charts import CHARTS
from reportgen.charts.base import (
    ChartDataError,
    ChartRequest,
    check_sequence,
    field_of,
    require_details,
)
from reportgen.charts.params import DistributionParams
from reportgen.charts.style import (
    INK,
    MUTED,
    SMALL,
    TINY,
    finish,
    new_figure,
    no_data_figure,
    strong,
    style_axes,
    text_colour_on,
    themed,
)
from reportgen.charts.units import UnitFormatter, format_count, format_value, grain_word
from reportgen.report.model.report_model import Theme
from reportgen.report.model.sections import Figure, NativeChart, Series
from reportgen.text import percent

SHAPE = "a list of {period, label, counts: {category: count}}, oldest first"
MIN_LABELLED_SHARE = 0.07  # smaller segments are too thin to hold a readable label



def ordered_palette(theme: Theme, count: int) -> list[str]:
    """``count`` colours from bad (vermillion) through grey to good (blue), colour-blind safe."""
    bad = theme.palette[5] if len(theme.palette) > 5 else theme.bad
    good = theme.palette[0]
    if count == 1:
        return [good]
    ramp = LinearSegmentedColormap.from_list("bad_good", [bad, "#E8B07A", "#D5D9DE", "#8DBBDD",
                                                          good])
    return [to_hex(ramp(i / (count - 1))) for i in range(count)]


def _category_order(entries: list[dict[str, Any]], order: tuple[str, ...] | None) -> list[str]:
    seen = list(dict.fromkeys(str(k) for entry in entries for k in entry["counts"]))
    if order:
        return [*order, *(c for c in seen if c not in order)]
    try:
        return sorted(seen, key=float)
    except ValueError:
        return seen


@CHARTS.register("distribution")
class DistributionChart:
    """100% stacked columns of category counts over time."""

    name = "distribution"
    Params = DistributionParams
    description = (
        "Shares of ordered categories (e.g. 1-5 ratings) per period as 100% stacked columns, "
        "coloured from bad to good, from metric.details['distribution']."
    )

    def build(self, request: ChartRequest, params: DistributionParams) -> Figure:
        """Draw ``metric.details['distribution']``."""
        raw = require_details(request, self.name, "distribution", SHAPE)
        entries: list[dict[str, Any]] = list(check_sequence(request, self.name, raw,
                                                            "details['distribution']"))
        for entry in entries:
            for key in ("period", "label", "counts"):
                field_of(request, self.name, entry, key, "details['distribution'] entry")
            if not isinstance(entry["counts"], dict):
                raise ChartDataError(request, self.name, expected="counts as {category: count}",
                                     found=type(entry["counts"]).__name__)
        metric = request.metric
        entries = [e for e in entries if sum(e["counts"].values()) > 0]
        if not entries:
            return no_data_figure(request, self.name, f"{metric.label} distribution")
        categories = _category_order(entries, params.order)
        labels = [str(e["label"]) for e in entries]
        counts = {c: [float(e["counts"].get(c, 0)) for e in entries] for c in categories}
        totals = [sum(counts[c][i] for c in categories) for i in range(len(entries))]
        # A 100% stacked column draws each count as its share of the period's total.
        shares = {c: [v / t for v, t in zip(counts[c], totals, strict=True)] for c in categories}
        colours = ordered_palette(request.theme, len(categories))

        with themed(request.theme):
            fig = new_figure()
            ax = fig.add_subplot()
            self._draw(fig, ax, request.theme, params, labels, categories, shares, totals, colours)
            data: dict[str, tuple[object, ...]] = {
                "period": tuple(str(e["period"]) for e in entries),
                "label": tuple(labels),
            }
            data.update({c: tuple(counts[c]) for c in categories})
            data.update({f"{c} share": tuple(shares[c]) for c in categories})
            data["n"] = tuple(totals)
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, entries, labels, categories, shares, totals),
                data=data,
                caption=(
                    f"Share of {metric.label} responses by category and "
                    f"{grain_word([str(e['period']) for e in entries])}, worst category at the "
                    f"bottom; n (responses) above each column."
                ),
                native=NativeChart(
                    chart_type="percent_stacked_column",
                    # The slide chart has no room above its columns; n goes under the label.
                    categories=tuple(f"{label} (n = {format_count(total)})"
                                     for label, total in zip(labels, totals, strict=True)),
                    series=tuple(Series(c, tuple(counts[c]), colour=colour)
                                 for c, colour in zip(categories, colours, strict=True)),
                    number_format="0%",
                    value_axis_title="Share of responses",
                    y_min=0.0,
                    y_max=1.0,
                    caption=(
                        f"Share of {metric.label} responses by category and "
                        f"{grain_word([str(e['period']) for e in entries])}, worst category at "
                        f"the bottom; n (responses) beside each label."
                    ),
                ),
            )

    def _draw(self, fig: MplFigure, ax: Axes, theme: Theme, params: DistributionParams,
              labels: list[str],
              categories: list[str], shares: dict[str, list[float]], totals: list[float],
              colours: list[str]) -> None:
        xs = list(range(len(labels)))
        bottoms = [0.0] * len(labels)
        width = 0.72
        for category, colour in zip(categories, colours, strict=True):
            heights = shares[category]
            ax.bar(xs, heights, width=width, bottom=bottoms, color=colour, label=category,
                   edgecolor="white", linewidth=0.5, zorder=2)
            if params.show_labels:
                for x, bottom, height in zip(xs, bottoms, heights, strict=True):
                    if height >= MIN_LABELLED_SHARE:
                        ax.text(x, bottom + height / 2, percent(height, 0), ha="center",
                                va="center", fontsize=TINY, color=text_colour_on(colour),
                                zorder=3)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        for x, total in zip(xs, totals, strict=True):
            # The first total says what the row of numbers is.
            text = f"n = {format_count(total)}" if x == 0 else format_count(total)
            ax.text(x, 1.01, text, ha="center", va="bottom", fontsize=TINY - 0.5, color=MUTED)
        # With few periods, keep columns a sensible width instead of stretching them.
        pad = max(0.6, (6 - len(labels)) / 2 + 0.5)
        ax.set_xlim(-pad, len(labels) - 1 + pad)
        ax.set_ylim(0, 1.0)
        style_axes(ax, "y")
        ax.grid(False)
        ax.yaxis.set_major_formatter(UnitFormatter("percent"))
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xticks(xs, labels)
        current = ax.get_xticklabels()[-1]
        current.set_color(INK)
        current.set_fontproperties(strong(theme, SMALL))
        handles, names = ax.get_legend_handles_labels()
        # Legend reads worst -> best, left to right, matching the bottom -> top stack.
        if params.legend_title:
            # The title sits inline, before the swatches, to keep the legend to one row.
            handles = [Line2D([], [], linestyle="none"), *handles]
            names = [f"{params.legend_title}:", *names]
        fig.legend(handles, names, loc="outside upper center", ncols=len(names),
                   handlelength=1.0, handleheight=0.8, columnspacing=1.0)

    def _alt_text(self, request: ChartRequest, entries: list[dict[str, Any]], labels: list[str],
                  categories: list[str], shares: dict[str, list[float]],
                  totals: list[float]) -> str:
        metric = request.metric
        grain = grain_word([str(e["period"]) for e in entries])
        span = (f"from {labels[0]} to {labels[-1]}" if len(labels) > 1
                else f"for {request.period_label}")
        latest = ", ".join(f"{c}: {percent(shares[c][-1], 0)}" for c in reversed(categories))
        text = (f"100% stacked column chart of {metric.label} responses by category and {grain} "
                f"{span}; in {request.period_label} the shares are {latest} "
                f"(n = {format_count(totals[-1])})")
        if metric.value is not None:
            text += f"; {metric.label} is {format_value(metric.value, metric.unit)}"
        return text + "."
