"""Chart builders by name: each turns metric results into a report Figure.

Built-ins register with ``@CHARTS.register("name")`` exactly as a plugin does; plugins
declare an entry point in the ``reportgen.charts`` group.  A registered entry may be a
builder instance or a class with a no-argument constructor.  The built-ins' params models
live apart from their drawing code (``charts.params``), so a definition is checked and its
plan resolved without loading matplotlib; ``params_model`` finds any chart's.
"""

from __future__ import annotations

from pydantic import BaseModel

from reportgen.charts.base import (
    ChartBuilder,
    ChartDataError,
    ChartError,
    ChartParams,
    ChartRequest,
)
from reportgen.charts.params import BUILTIN_PARAMS
from reportgen.registry import Registry

__all__ = [
    "CHARTS",
    "ChartBuilder",
    "ChartDataError",
    "ChartError",
    "ChartParams",
    "ChartRequest",
    "builder_for",
    "params_model",
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


def params_model(kind: str) -> type[BaseModel]:
    """The params model of the chart ``kind``: a built-in's from ``charts.params``, without
    loading its drawing code (matplotlib); a plugin's from its builder.  Raises
    UnknownNameError (with a did-you-mean) for a name no chart has."""
    model = BUILTIN_PARAMS.get(kind)
    return model if model is not None else CHARTS.instance(kind).Params


def builder_for(kind: str) -> ChartBuilder:
    """The registered builder of the chart ``kind`` (a module-level function, so a plan
    can name it in a picklable ``partial``)."""
    return CHARTS.instance(kind)
