"""The parameters of the built-in charts, apart from their drawing code.

``reportgen validate`` checks a chart's params with these models without loading
matplotlib; each builder module uses the same class as its ``Params``.
"""

from __future__ import annotations

from pydantic import Field

from reportgen.charts.base import ChartParams


class BarParams(ChartParams):
    """Options of the ``bar`` chart."""

    by: str = Field(description="Breakdown to draw: its column, or its columns joined with ','.")
    horizontal: bool = Field(True, description="Horizontal bars (long segment names read better).")
    top: int | None = Field(None, ge=1, description="Draw only the best N segments.")
    show_interval: bool = Field(True, description="Draw each segment's confidence interval.")
    show_target: bool = Field(True, description="Draw the metric's target as a dashed line.")


class CalibrationParams(ChartParams):
    """Options of the ``calibration`` chart."""

    show_stats: bool = Field(
        True, description="Print n, mean absolute deviation and share within tolerance per auditor."
    )


class ControlParams(ChartParams):
    """Options of the ``control`` chart."""

    annotate: bool = Field(True, description="Label out-of-control points with their value.")


class DistributionParams(ChartParams):
    """Options of the ``distribution`` chart."""

    order: tuple[str, ...] | None = Field(
        None,
        description="Category labels from worst to best; default: numeric labels ascending, "
        "otherwise as first listed.",
    )
    show_labels: bool = Field(True, description="Print each segment's share when it fits.")
    legend_title: str | None = Field(None, description="Title before the legend, e.g. 'Rating'.")


class HeatmapParams(ChartParams):
    """Options of the ``heatmap`` chart."""

    by: str = Field(description="Two-column breakdown, rows first: e.g. 'queue,category'.")
    show_n: bool = Field(True, description="Print each cell's n under its value.")


class ParetoParams(ChartParams):
    """Options of the ``pareto`` chart."""

    by: str = Field(description="Breakdown of causes: its column, or its columns joined with ','.")
    cut: float = Field(0.8, gt=0, le=1, description="Cumulative share that marks the vital few.")


class SpreadParams(ChartParams):
    """Options of the ``spread`` chart."""

    by: str = Field(
        description="Breakdown with one row per agent, e.g. 'agent_id', or 'queue,agent_id' "
        "for one box per queue."
    )
    show_target: bool = Field(True, description="Draw the metric's target as a dashed line.")


class TrendParams(ChartParams):
    """Options of the ``trend`` chart."""

    show_interval: bool = Field(
        True, description="Draw each period's confidence interval as a whisker."
    )
    show_target: bool = Field(True, description="Draw the metric's target as a dashed line.")


#: chart name -> its params model, for the built-in charts
BUILTIN_PARAMS: dict[str, type[ChartParams]] = {
    "bar": BarParams,
    "calibration": CalibrationParams,
    "control": ControlParams,
    "distribution": DistributionParams,
    "heatmap": HeatmapParams,
    "pareto": ParetoParams,
    "spread": SpreadParams,
    "trend": TrendParams,
}
