"""Calibration: each auditor's bias against the calibration key, inside or outside tolerance."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.colors import to_hex
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
from reportgen.charts.params import CalibrationParams
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
    strong,
    style_axes,
    themed,
    tint,
    wrap,
)
from reportgen.charts.units import (
    UnitFormatter,
    format_count,
    format_delta,
    format_value,
    plural,
    signed_number_format,
)
from reportgen.report.model.metric_results import Unit
from reportgen.report.model.sections import Figure, NativeChart, Series
from reportgen.text import percent, terms

SHAPE = "[{auditor, n, mean_abs_deviation, bias, within_tolerance}]"
AUDITOR_KEYS = ("auditor", "n", "mean_abs_deviation", "bias", "within_tolerance")



def _points(unit: Unit) -> str:
    return {"percent": "percentage points", "score": "score points"}.get(unit, unit)


@CHARTS.register("calibration")
class CalibrationChart:
    """Auditor bias bars with the tolerance band."""

    name = "calibration"
    Params = CalibrationParams
    description = (
        "Each auditor's bias against the calibration key as a bar around zero, with the "
        "±tolerance band shaded and auditors outside it highlighted."
    )

    def build(self, request: ChartRequest, params: CalibrationParams) -> Figure:
        """Draw ``metric.details['auditors']`` against ``metric.details['tolerance']``."""
        raw = require_details(request, self.name, "auditors", SHAPE)
        auditors = list(check_sequence(request, self.name, raw, "details['auditors']"))
        tolerance = require_details(request, self.name, "tolerance", "a number, e.g. 5.0")
        if not isinstance(tolerance, int | float) or tolerance < 0:
            raise ChartDataError(request, self.name,
                                 expected="details['tolerance'] as a non-negative number",
                                 found=repr(tolerance))
        for auditor in auditors:
            for key in AUDITOR_KEYS:
                field_of(request, self.name, auditor, key, "details['auditors'] entry")
        if not auditors:
            return no_data_figure(request, self.name, f"{request.metric.label} calibration")
        tolerance = float(tolerance)
        # Most over-scoring at the top, most under-scoring at the bottom.
        ordered = sorted(auditors, key=lambda a: (-float(a["bias"]), str(a["auditor"])))
        outside = [abs(float(a["bias"])) > tolerance for a in ordered]

        with themed(request.theme):
            fig = new_figure(WIDTH_IN, height_for(len(ordered), per_row=0.3, base=0.8, low=2.0))
            ax = fig.add_subplot()
            self._draw(ax, request, params, ordered, outside, tolerance)
            return finish(
                fig, request, self.name,
                alt_text=self._alt_text(request, ordered, outside, tolerance),
                data={
                    "auditor": tuple(str(a["auditor"]) for a in ordered),
                    "n": tuple(int(a["n"]) for a in ordered),
                    "mean_abs_deviation": tuple(float(a["mean_abs_deviation"]) for a in ordered),
                    "bias": tuple(float(a["bias"]) for a in ordered),
                    "within_tolerance": tuple(float(a["within_tolerance"]) for a in ordered),
                    "outside_tolerance": tuple(outside),
                    "tolerance": (tolerance,) * len(ordered),
                },
                caption=self._caption(request, tolerance) + (
                    f" {terms.AVERAGE_GAP.capitalize()}: how far an auditor's scores sit from "
                    "the calibrator's, on average."),
                native=self._native(request, ordered, outside, tolerance),
            )

    @staticmethod
    def _caption(request: ChartRequest, tolerance: float) -> str:
        return (f"Bias of each auditor against the calibration key, in "
                f"{_points(request.metric.unit)}: right of zero scores higher than the key, "
                f"left lower. Shaded: the ±{format_value(tolerance, request.metric.unit)} "
                "tolerance; highlighted auditors are outside it.")

    def _native(self, request: ChartRequest, ordered: list[dict[str, Any]],
                outside: list[bool], tolerance: float) -> NativeChart:
        """The same bars and band as an editable horizontal bar chart (without the
        per-auditor statistics, which its caption then leaves out)."""
        theme, unit = request.theme, request.metric.unit
        biases = tuple(float(a["bias"]) for a in ordered)
        reach = max([abs(b) for b in biases] + [tolerance]) or 1.0
        band = Series(f"Tolerance ±{format_value(tolerance, unit)}", (tolerance,) * len(ordered),
                      role="band", colour=to_hex(tint(theme.neutral, 0.86)).upper())
        bias = Series("Bias", biases, highlight=tuple(i for i, out in enumerate(outside) if out),
                      highlight_colour=theme.bad)
        return NativeChart(
            chart_type="bar",
            categories=tuple(str(a["auditor"]) for a in ordered),
            series=(band, bias),
            number_format=signed_number_format(unit),
            value_axis_title=f"Bias against the key ({_points(unit)})",
            y_min=-reach * 1.15,
            y_max=reach * 1.15,
            caption=self._caption(request, tolerance),
            alt_text=self._alt_text(request, ordered, outside, tolerance,
                                    shape="Horizontal bar chart"),
        )

    def _draw(self, ax: Axes, request: ChartRequest, params: CalibrationParams,
              ordered: list[dict[str, Any]], outside: list[bool], tolerance: float) -> None:
        theme, unit = request.theme, request.metric.unit
        positions = list(range(len(ordered)))
        biases = [float(a["bias"]) for a in ordered]
        colours = [theme.bad if out else theme.primary for out in outside]
        reach = max([abs(b) for b in biases] + [tolerance]) or 1.0
        ax.set_xlim(-reach * 1.3, reach * 1.3)
        ax.set_ylim(len(ordered) - 0.5, -0.5)
        ax.axvspan(-tolerance, tolerance, color=tint(theme.neutral, 0.86), zorder=0, linewidth=0)
        ax.axvline(0, color=INK, linewidth=0.8, zorder=1)
        ax.barh(positions, biases, height=0.56, color=colours, zorder=2)
        for pos, bias, colour in zip(positions, biases, colours, strict=True):
            ax.annotate(format_delta(bias, unit).replace(" pts", ""), (bias, pos),
                        xytext=(4 if bias >= 0 else -4, 0), textcoords="offset points",
                        ha="left" if bias >= 0 else "right", va="center",
                        fontproperties=strong(theme, SMALL), color=colour, zorder=3)
        style_axes(ax, "x")
        ax.spines["left"].set_visible(False)  # the zero line is the reference, not the edge
        ax.xaxis.set_major_formatter(UnitFormatter(unit, signed=True))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10],
                                               symmetric=True))
        ax.set_xlabel(f"Bias against the key ({_points(unit)})", color=MUTED, fontsize=SMALL)
        ax.set_yticks(positions, [wrap(str(a["auditor"]), 22) for a in ordered], color=INK,
                      fontsize=SMALL)
        ax.text(tolerance, 1.0, f"±{format_value(tolerance, unit)} tolerance",
                transform=blended_transform_factory(ax.transData, ax.transAxes), ha="right",
                va="bottom", fontsize=TINY, color=MUTED)
        if params.show_stats:
            right = blended_transform_factory(ax.transAxes, ax.transData)
            for pos, auditor in zip(positions, ordered, strict=True):
                # Single spaces only: SVG collapses runs of spaces in the PDF.
                stats = (f"n = {format_count(auditor['n'])} · {terms.AVERAGE_GAP} "
                         f"{format_value(float(auditor['mean_abs_deviation']), unit)} · "
                         f"{percent(float(auditor['within_tolerance']), 0)} within")
                ax.text(1.02, pos, stats, transform=right, ha="left", va="center",
                        fontsize=TINY, color=MUTED)

    def _alt_text(self, request: ChartRequest, ordered: list[dict[str, Any]],
                  outside: list[bool], tolerance: float, shape: str = "Calibration chart",
                  ) -> str:
        metric, unit = request.metric, request.metric.unit
        text = (f"{shape} of bias against the calibration key for "
                f"{plural(len(ordered), 'auditor')}, {request.period_label}; tolerance "
                f"±{format_value(tolerance, unit)}")
        flagged = [a for a, out in zip(ordered, outside, strict=True) if out]
        if flagged:
            listed = ", ".join(f"{a['auditor']} ({format_delta(float(a['bias']), unit)})"
                               for a in flagged)
            text += f"; {plural(len(flagged), 'auditor')} outside tolerance: {listed}"
        else:
            text += "; all auditors within tolerance"
        if metric.value is not None:
            text += f"; {metric.label} is {format_value(metric.value, unit)}"
        return text + "."
