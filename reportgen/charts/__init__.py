"""Chart builders by name: each turns metric results into a report Figure.

Built-ins register with ``@CHARTS.register("name")`` exactly as a plugin does; plugins
declare an entry point in the ``reportgen.charts`` group.  A registered entry may be a
builder instance or a class with a no-argument constructor.
"""

from __future__ import annotations

from reportgen.charts.base import (
    ChartBuilder,
    ChartDataError,
    ChartError,
    ChartParams,
    ChartRequest,
)
from reportgen.registry import Registry

__all__ = [
    "CHARTS",
    "ChartBuilder",
    "ChartDataError",
    "ChartError",
    "ChartParams",
    "ChartRequest",
]

CHARTS: Registry[ChartBuilder] = Registry(
    "chart",
    "reportgen.charts",
    builtins=(
        "reportgen.charts.trend",
        "reportgen.charts.bar",
        "reportgen.charts.pareto",
        "reportgen.charts.heatmap",
        "reportgen.charts.distribution",
        "reportgen.charts.control",
        "reportgen.charts.spread",
        "reportgen.charts.calibration",
    ),
)
