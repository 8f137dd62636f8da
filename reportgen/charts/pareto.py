"""Pareto: counts by cause, largest first, with the cumulative share and the vital few."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.colors import to_hex
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
from reportgen.charts.params import ParetoParams
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
    tint,
    wrap,
)
from reportgen.charts.units import UnitFormatter, format_count, plural
from reportgen.insights.pareto import vital_few
from reportgen.report.model.metric_results import BreakdownRow
from reportgen.report.model.sections import Figure, NativeChart, Series
from reportgen.text import percent


def _count(row: BreakdownRow) -> float:
    # The breakdown's numerator is the count of cases; a count breakdown keeps it in value.
    return float(row.numerator if row.numerator is not None else row.value or 0.0)


@CHARTS.register("pareto")
class ParetoChart:
    """Pareto chart of the counts in one breakdown."""

    name = "pareto"
    Params = ParetoParams
    description = (
        "Counts by cause in descending bars with the cumulative share on a second axis; "
        "the causes up to the cut (80% by default) are highlighted as the vital few."
    )

    def build(self, request: ChartRequest, params: ParetoParams) -> Figure:
        """Draw the rows of ``metric.breakdowns[params.by]`` by count."""
        metric = request.metric
        rows = breakdown_rows(request, self.name, params.by)
        what = f"{metric.label} by {by_words(params.by)}"
        shown = sorted((r for r in rows if is_shown(r) and _count(r) > 0),
                       key=lambda r: (-_count(r), r.label))
        if not shown:
            return no_data_figure(request, self.name, what,
                                  **empty_breakdown(request.metric, params.by, rows))
        counts = [_count(r) for r in shown]
        total = sum(counts)
        # The running share is how a Pareto chart is read; it is derived from the drawn
        # counts alone, so the line always matches the bars.
        cumulative: list[float] = []
        running = 0.0
        for count in counts:
            running += count
            cumulative.append(running / total)
        vital = vital_few(counts, params.cut)

        theme = request.theme
        with themed(theme):
            fig = new_figure()
            ax = fig.add_subplot()
            self._draw(ax, request, params, shown, counts, cumulative, vital)
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, params, shown, counts, cumulative, vital, total),
                data=self._data(params, shown, counts, cumulative, vital),
                caption=self._caption(request, params, rows, vital, total),
                native=NativeChart(
                    chart_type="column",
                    categories=tuple(r.label for r in shown),
                    series=(
                        # Bars after the cut are muted; the vital few keep the primary colour.
                        Series("Count", tuple(counts), colour=to_hex(tint(theme.neutral, 0.55)),
                               highlight=tuple(range(vital)), highlight_colour=theme.primary),
                        Series("Cumulative share", tuple(cumulative), role="cumulative",
                               colour=theme.palette[1 % len(theme.palette)]),
                        Series(f"{percent(params.cut, 0)} cut", (params.cut,) * len(shown),
                               role="threshold"),
                    ),
                    number_format="#,##0",
                    value_axis_title="Count",
                    y_min=0.0,
                ),
            )

    def _draw(self, ax: Axes, request: ChartRequest, params: ParetoParams,
              shown: list[BreakdownRow], counts: list[float], cumulative: list[float],
              vital: int) -> None:
        theme = request.theme
        xs = list(range(len(shown)))
        colours = [theme.primary if i < vital else tint(theme.neutral, 0.55) for i in xs]
        ax.bar(xs, counts, width=0.66, color=colours, zorder=2)
        ax.set_xlim(-0.6, len(shown) - 0.4)
        # Both axes share one scale (the total is 100%), so the cumulative line always runs
        # above the bars and a bar's height reads as its share on the right axis.
        total = sum(counts)
        ax.set_ylim(0, total / 0.92)
        style_axes(ax, "y")
        ax.yaxis.set_major_formatter(UnitFormatter("count"))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, steps=[1, 2, 5, 10]))
        ax.set_ylabel("Count", color=MUTED, fontsize=SMALL)
        many = len(shown) > 8
        ax.set_xticks(xs, [wrap(r.label, 11 if not many else 18) for r in shown],
                      fontsize=SMALL if len(shown) <= 10 else TINY,
                      rotation=30 if many else 0, ha="right" if many else "center",
                      rotation_mode="anchor")
        for x, count, colour in zip(xs, counts, colours, strict=True):
            inside = count / total > 0.12
            ax.annotate(format_count(count), (x, count), xytext=(0, -3 if inside else 2),
                        textcoords="offset points", ha="center", va="top" if inside else "bottom",
                        fontsize=TINY, color=text_colour_on(colour) if inside else INK)

        share = ax.twinx()
        share.plot(xs, cumulative, color=theme.palette[1 % len(theme.palette)], marker="o",
                   markersize=3.5, linewidth=1.4, markeredgecolor="white", markeredgewidth=0.6,
                   zorder=4, clip_on=False)
        share.set_ylim(0, 1.0 / 0.92)  # 100% sits just below the top, clear of the frame
        share.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        share.yaxis.set_major_formatter(UnitFormatter("percent"))
        share.grid(False)
        for side in ("left", "top", "bottom"):
            share.spines[side].set_visible(False)
        share.spines["right"].set_visible(False)
        share.set_ylabel("Cumulative share", color=MUTED, fontsize=SMALL)
        share.axhline(params.cut, color=theme.neutral, linestyle=(0, (4, 3)), linewidth=0.9,
                      zorder=1)
        share.text(0.995, params.cut, f"{percent(params.cut, 0)} cut", transform=blended_transform_factory(
            share.transAxes, share.transData), ha="right", va="top", fontsize=TINY,
            color=theme.neutral)
        # The vital few end where the cumulative line crosses the cut.
        share.axvline(vital - 0.5, color=theme.neutral, linewidth=0.8, linestyle=":", zorder=1)
        share.annotate(f"Vital few: {plural(vital, 'cause')}", (vital - 0.5, 1.0 / 0.92),
                       xytext=(-4, -2), textcoords="offset points", ha="right", va="top",
                       fontproperties=strong(theme, TINY), color=theme.primary)

    def _data(self, params: ParetoParams, shown: list[BreakdownRow], counts: list[float],
              cumulative: list[float], vital: int) -> dict[str, tuple[object, ...]]:
        data: dict[str, tuple[object, ...]] = {}
        for index, column in enumerate(by_columns(params.by)):
            data[column] = tuple(r.key[index] if index < len(r.key) else "" for r in shown)
        data["label"] = tuple(r.label for r in shown)
        data["count"] = tuple(counts)
        data["cumulative_share"] = tuple(cumulative)
        data["vital_few"] = tuple(i < vital for i in range(len(shown)))
        return data

    def _alt_text(self, request: ChartRequest, params: ParetoParams, shown: list[BreakdownRow],
                  counts: list[float], cumulative: list[float], vital: int, total: float) -> str:
        names = ", ".join(r.label for r in shown[:vital])
        top = shown[0]
        return (
            f"Pareto column chart of {request.metric.label} by {by_words(params.by)} for "
            f"{request.period_label}: {vital} of {plural(len(shown), 'cause')} ({names}) account "
            f"for {percent(cumulative[vital - 1], 0)} of {format_count(total)} cases; the largest is "
            f"{top.label} with {format_count(counts[0])} ({percent(counts[0] / total, 0)})."
        )

    def _caption(self, request: ChartRequest, params: ParetoParams,
                 rows: tuple[BreakdownRow, ...], vital: int, total: float) -> str:
        parts = [
            f"{request.metric.label} by {by_words(params.by)}, {request.period_label}: "
            f"{format_count(total)} cases, largest first.",
            f"Line: cumulative share; dashed line: the {percent(params.cut, 0)} cut; highlighted: "
            f"the {plural(vital, 'cause')} reaching it.",
        ]
        note = hidden_note(rows)
        return " ".join([*parts, note] if note else parts)
