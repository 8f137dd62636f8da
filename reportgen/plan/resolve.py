"""Resolve: a loaded definition checked once against the registries, then made a plan.

``load_definition`` reads and checks a YAML file (the document, then the registry names and
params, all problems reported together) and keeps the params it validated; ``resolve``
turns it into a ``ReportPlan`` (``plan.model``): each metric with its calculator, those
validated params and its statistics settings, each chart with its builder and validated
params, and per source the columns it must deliver.  Every later stage takes the plan;
nothing after it looks a name up in a registry or validates a raw ``params`` dict again.

The registries are imported where they are used: importing ``plan.model`` (which any stage
does) runs this package's ``__init__``, and so this module, first.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from reportgen.definition import LoadedDefinition
from reportgen.definition import load_definition as _load
from reportgen.definition.checks import Collector
from reportgen.definition.yaml_loader import LineMap, load_yaml
from reportgen.errors import DefinitionError
from reportgen.plan.checks import RegistryCheck, validated
from reportgen.plan.delivery import delivery_problems
from reportgen.plan.model import ChartPlan, CheckedDefinition, ReportPlan, SourcePlan, Validated

if TYPE_CHECKING:
    from reportgen.charts.base import ChartBuilder
    from reportgen.metrics.engine import ResolvedMetric

M = TypeVar("M", bound=BaseModel)


def load_definition(path: Path | str, environ: Mapping[str, str] | None = None) -> CheckedDefinition:
    """Load the definition at ``path`` and check everything a run needs; raises
    DefinitionError listing every problem with its file, line and column."""
    registry = RegistryCheck()
    loaded = _load(path, environ, checks=(registry, delivery_problems))
    return CheckedDefinition(loaded.definition, loaded.path, loaded.base_dir, loaded.hash,
                             dict(registry.metric_params), dict(registry.chart_params))


class _Params:
    """The validated params of one definition's metrics and charts: those its check kept,
    else validated here (a definition loaded without the registry checks, or changed since),
    each problem located in the file."""

    def __init__(self, loaded: LoadedDefinition):
        self.loaded = loaded
        self.kept: dict[str, Mapping[str, Validated]] = {"metrics": {}, "charts": {}}
        if isinstance(loaded, CheckedDefinition):
            self.kept = {"metrics": loaded.metric_params, "charts": loaded.chart_params}
        self._out: Collector | None = None

    def get(self, model: type[M], section: str, index: int, ident: str,
            raw: Mapping[str, object]) -> M | None:
        kept = self.kept[section].get(ident)
        if kept is not None and type(kept.params) is model and kept.raw == raw:
            return kept.params
        return validated(model, dict(raw), (section, index, "params"), self.out)

    @property
    def out(self) -> Collector:
        if self._out is None:
            try:
                lines = load_yaml(self.loaded.path).lines
            except (DefinitionError, OSError):  # changed or removed since it was loaded
                lines = LineMap(str(self.loaded.path))
            self._out = Collector(lines)
        return self._out

    def raise_problems(self) -> None:
        if self._out is not None and self._out.problems:
            raise DefinitionError(self._out.lines.file, self._out.problems)


def resolve(loaded: LoadedDefinition) -> ReportPlan[ResolvedMetric, ChartPlan[ChartBuilder]]:
    """The plan of a loaded (and checked) definition: each metric and chart with the params
    its check validated (validated here when the definition was loaded without it)."""
    from reportgen.charts import builder_for, params_model
    from reportgen.metrics.base import calculator
    from reportgen.metrics.engine import plan_metric

    d = loaded.definition
    known = _Params(loaded)
    metrics: list[ResolvedMetric] = []
    for i, spec in enumerate(d.metrics):
        calc = calculator(spec.calculator)
        params = known.get(calc.Params, "metrics", i, spec.id, spec.params)
        if params is not None:
            metrics.append(plan_metric(spec, params, d.statistics, d.sources.get(spec.source)))
    charts: list[ChartPlan[ChartBuilder]] = []
    for i, chart in enumerate(d.charts):
        chart_params = known.get(params_model(chart.type), "charts", i, chart.id,
                                 chart.params)
        if chart_params is not None:
            charts.append(ChartPlan(chart, chart_params, partial(builder_for, chart.type)))
    known.raise_problems()
    needed: dict[str, list[str]] = {name: [] for name in d.sources}
    for plan in metrics:
        needed[plan.spec.source].extend(plan.columns())
    for gate in d.gates:
        if gate.column:
            needed[gate.source].append(gate.column)
    for item in d.interventions:
        needed[d.metric(item.metric).source].extend(item.scope)
    sources = {name: SourcePlan(name, spec, tuple(dict.fromkeys(needed[name])))
               for name, spec in d.sources.items()}
    return ReportPlan(loaded, tuple(metrics), tuple(charts), sources)
