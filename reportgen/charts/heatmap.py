"""Heatmap: a metric over a two-column breakdown, one annotated cell per segment."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Rectangle

from reportgen.charts import CHARTS
from reportgen.charts.base import (
    ChartDataError,
    ChartRequest,
    breakdown_rows,
    by_columns,
    by_words,
    empty_breakdown,
    hidden_note,
    is_shown,
)
from reportgen.charts.params import HeatmapParams
from reportgen.charts.style import (
    INK,
    MUTED,
    NO_DATA_FILL,
    SMALL,
    TINY,
    WIDTH_IN,
    finish,
    height_for,
    new_figure,
    no_data_figure,
    strong,
    text_colour_on,
    themed,
    wrap,
)
from reportgen.charts.units import UnitFormatter, format_count, format_value, plural
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.report_model import Theme
from reportgen.report.model.sections import Figure

CELL_GAP = 0.06  # white space between cells, in cell units



def _colormap(theme: Theme, metric: MetricResult, centred: bool) -> LinearSegmentedColormap:
    # Blue and vermillion from the Okabe-Ito palette stay distinct for colour-blind readers;
    # the pale middle marks "at target".
    good = theme.palette[0]
    bad = theme.palette[5] if len(theme.palette) > 5 else theme.bad
    if not centred:
        return LinearSegmentedColormap.from_list("sequential", ["#F4F6F8", good])
    low, high = (bad, good) if metric.direction == "higher" else (good, bad)
    return LinearSegmentedColormap.from_list("diverging", [low, "#F4F6F8", high])


@CHARTS.register("heatmap")
class HeatmapChart:
    """Annotated heatmap of a two-column breakdown."""

    name = "heatmap"
    Params = HeatmapParams
    description = (
        "A metric over a two-column breakdown (rows x columns) as annotated cells with n; "
        "colour shows distance from the target, suppressed cells are hatched."
    )

    def build(self, request: ChartRequest, params: HeatmapParams) -> Figure:
        """Draw ``metric.breakdowns[params.by]``; each row key must have two parts."""
        metric = request.metric
        columns = by_columns(params.by)
        rows = breakdown_rows(request, self.name, params.by)
        bad_keys = [r.label for r in rows if len(r.key) != 2]
        if len(columns) != 2 or bad_keys:
            found = f"keys like {bad_keys[0]!r}" if bad_keys else f"by = {params.by!r}"
            raise ChartDataError(request, self.name,
                                 expected="a two-column breakdown such as 'queue,category'",
                                 found=found)
        what = f"{metric.label} by {by_words(params.by)}"
        if not any(is_shown(r) for r in rows):
            return no_data_figure(request, self.name, what,
                                  **empty_breakdown(request.metric, params.by, rows))
        row_names = list(dict.fromkeys(r.key[0] for r in rows))
        col_names = list(dict.fromkeys(r.key[1] for r in rows))
        cells = {r.key: r for r in rows}

        with themed(request.theme):
            height = height_for(len(row_names), per_row=0.4, base=0.75, low=1.8)
            fig = new_figure(WIDTH_IN, height)
            ax = fig.add_subplot()
            self._draw(fig, ax, request, params, row_names, col_names, cells)
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, params, rows, row_names, col_names),
                data={
                    columns[0]: tuple(r.key[0] for r in rows),
                    columns[1]: tuple(r.key[1] for r in rows),
                    "value": tuple(r.value if is_shown(r) else None for r in rows),
                    "n": tuple(r.n for r in rows),
                    "suppressed": tuple(r.suppressed for r in rows),
                },
                caption=self._caption(request, params, rows),
            )

    def _draw(self, fig: MplFigure, ax: Axes, request: ChartRequest, params: HeatmapParams,
              row_names: list[str], col_names: list[str],
              cells: dict[tuple[str, ...], BreakdownRow]) -> None:
        metric, theme = request.metric, request.theme
        values = [r.value for r in cells.values() if is_shown(r) and r.value is not None]
        target = metric.target
        centred = target is not None
        # The smallest colour range worth showing, so equal values do not blow up the scale.
        least = 0.01 if metric.unit in ("percent", "ratio") else 1.0
        if target is not None:
            reach = max([abs(v - target) for v in values] + [least])
            norm: Normalize = TwoSlopeNorm(vcenter=target, vmin=target - reach,
                                           vmax=target + reach)
        else:
            low, high = min(values), max(values)
            if high - low < least:
                low, high = low - least, high + least
            norm = Normalize(vmin=low, vmax=high)
        cmap = _colormap(theme, metric, centred)

        for i, row_name in enumerate(row_names):
            for j, col_name in enumerate(col_names):
                row = cells.get((row_name, col_name))
                self._cell(ax, request, params, i, j, row, cmap, norm)
        ax.set_xlim(-0.5, len(col_names) - 0.5)
        ax.set_ylim(len(row_names) - 0.5, -0.5)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.xaxis.tick_top()
        ax.set_xticks(range(len(col_names)), [wrap(c, 14) for c in col_names], fontsize=SMALL,
                      color=INK)
        ax.set_yticks(range(len(row_names)), [wrap(r, 22) for r in row_names], fontsize=SMALL,
                      color=INK)
        ticks = sorted({min(values), max(values), *([target] if target is not None else [])})
        if len(ticks) == 1:
            return  # one colour for every cell: a colour scale would say nothing
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.9,
                           aspect=25, pad=0.02)
        bar.outline.set_visible(False)
        bar.ax.tick_params(labelsize=TINY, labelcolor=MUTED, length=0)
        bar.ax.yaxis.set_major_formatter(UnitFormatter(metric.unit))
        # Ticks at the drawn extremes (and the target), not the colour range: no "102%".
        bar.set_ticks(ticks)
        if ticks[0] < ticks[-1]:
            bar.ax.set_ylim(ticks[0], ticks[-1])
        bar.ax.set_yticklabels([f"target {format_value(t, metric.unit)}" if t == target
                                else format_value(t, metric.unit) for t in ticks])

    def _cell(self, ax: Axes, request: ChartRequest, params: HeatmapParams, i: int, j: int,
              row: BreakdownRow | None, cmap: LinearSegmentedColormap, norm: Normalize) -> None:
        size = 1 - CELL_GAP
        corner = (j - size / 2, i - size / 2)
        unit = request.metric.unit
        if row is None:
            ax.add_patch(Rectangle(corner, size, size, facecolor="white", edgecolor=NO_DATA_FILL,
                                   linewidth=0.8))
            ax.text(j, i, "–", ha="center", va="center", fontsize=SMALL, color=MUTED)
            return
        if row.value is None or not is_shown(row):
            ax.add_patch(Rectangle(corner, size, size, facecolor=NO_DATA_FILL, hatch="////",
                                   edgecolor="#C5CAD1", linewidth=0))
            label = f"suppressed\nn = {format_count(row.n)}" if params.show_n else "suppressed"
            ax.text(j, i, label, ha="center", linespacing=1.3,
                    va="center", fontsize=TINY, color=MUTED,
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": NO_DATA_FILL,
                          "edgecolor": "none"})
            return
        fill = cmap(norm(row.value))
        ax.add_patch(Rectangle(corner, size, size, facecolor=fill, edgecolor="none"))
        ink = text_colour_on(fill)
        ax.text(j, i - (0.1 if params.show_n else 0), format_value(row.value, unit),
                ha="center", va="center", color=ink, fontproperties=strong(request.theme, SMALL))
        if params.show_n:
            ax.text(j, i + 0.22, f"n = {format_count(row.n)}", ha="center", va="center",
                    # No alpha on text: WeasyPrint drops part of semi-transparent SVG text.
                    fontsize=TINY - 0.5, color=ink)

    def _alt_text(self, request: ChartRequest, params: HeatmapParams,
                  rows: tuple[BreakdownRow, ...], row_names: list[str],
                  col_names: list[str]) -> str:
        metric = request.metric
        shown = [r for r in rows if is_shown(r)]
        best_first = sorted(shown, key=lambda r: (r.value or 0.0, r.label),
                            reverse=metric.direction == "higher")
        best, worst = best_first[0], best_first[-1]
        first, second = (name.replace("_", " ") for name in by_columns(params.by))
        text = (f"Heatmap of {metric.label} by {first} ({len(row_names)}) and {second} "
                f"({len(col_names)}) for {request.period_label}: best {best.label} at "
                f"{format_value(best.value, metric.unit)} (n = {format_count(best.n)}), "
                f"worst {worst.label} at {format_value(worst.value, metric.unit)} "
                f"(n = {format_count(worst.n)})")
        if metric.value is not None:
            text += f"; overall {format_value(metric.value, metric.unit)}"
        if metric.target is not None:
            text += f", target {format_value(metric.target, metric.unit)}"
        hidden = len(rows) - len(shown)
        if hidden:
            text += f"; {plural(hidden, 'cell')} suppressed for small n"
        return text + "."

    def _caption(self, request: ChartRequest, params: HeatmapParams,
                 rows: tuple[BreakdownRow, ...]) -> str:
        metric = request.metric
        parts = [f"{metric.label} by {by_words(params.by)}, {request.period_label}."]
        if metric.target is not None:
            parts.append(f"Colour: distance from the {format_value(metric.target, metric.unit)} "
                         "target; pale cells are close to it.")
        else:
            parts.append("Colour: darker cells have higher values.")
        note = hidden_note(rows, "Hatched (suppressed)")
        if note:
            parts.append(note)
        return " ".join(parts)
