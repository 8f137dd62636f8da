"""Chart builders by name: each turns metric results into a report Figure.

Built-ins register with ``@CHARTS.register("name")`` exactly as a plugin does; plugins
declare an entry point in the ``reportgen.charts`` group.  A registered entry may be a
builder instance or a class with a no-argument constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reportgen.charts.base import (
    ChartBuilder,
    ChartDataError,
    ChartError,
    ChartParams,
    ChartRequest,
)
from reportgen.registry import Registry

if TYPE_CHECKING:
    from reportgen.report.model.sections import Figure

__all__ = [
    "CHARTS",
    "ChartBuilder",
    "ChartDataError",
    "ChartError",
    "ChartParams",
    "ChartRequest",
    "build_chart",
    "get_builder",
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


def get_builder(name: str) -> ChartBuilder:
    """The builder registered as ``name`` (instantiated if a class was registered)."""
    entry: Any = CHARTS.get(name)
    return entry() if isinstance(entry, type) else entry


def build_chart(name: str, request: ChartRequest, params: Mapping[str, Any]) -> Figure:
    """Validate ``params`` with the builder's Params model and draw the chart.

    Raises ``UnknownNameError`` for an unknown chart name and ``ChartError`` for invalid
    params or a request without metrics; ``ChartDataError`` when a metric lacks the data.
    """
    builder = get_builder(name)
    if not request.metrics:
        raise ChartError(request.id, name, "no metric given; a chart needs at least one")
    try:
        validated = builder.Params.model_validate(dict(params))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'params'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ChartError(request.id, name, f"invalid params: {problems}") from exc
    try:
        return builder.build(request, validated)
    except ChartDataError:
        # A metric with no rows in the period has no breakdowns or details to draw: that
        # is a fact to show on the page, not a broken definition.
        if request.metric.n == 0 and request.metric.value is None:
            from reportgen.charts.style import no_data_figure

            return no_data_figure(request, name, request.metric.label)
        raise
