"""The resolved report plan: a definition checked once, with everything looked up.

``load_definition`` reads and checks a YAML file (the document, then the registry names and
params, all problems reported together) and keeps the params it validated; ``resolve``
turns it into a ``ReportPlan``: each metric with its calculator, those validated params and
its statistics settings, each chart with its builder and validated params, and per source
the columns it must deliver.  Every later
stage takes the plan; nothing after it looks a name up in a registry or validates a raw
``params`` dict again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from reportgen.definition import LoadedDefinition
from reportgen.definition import load_definition as _load
from reportgen.definition.checks import Collector
from reportgen.definition.content_specs import ChartSpec, SourceSpec
from reportgen.definition.document import Definition
from reportgen.definition.yaml_loader import LineMap, load_yaml
from reportgen.errors import DefinitionError
from reportgen.plan.checks import RegistryCheck, Validated, validated
from reportgen.plan.delivery import delivery_problems

if TYPE_CHECKING:
    from reportgen.charts.base import ChartBuilder
    from reportgen.metrics.engine import MetricPlan

__all__ = ["ChartPlan", "CheckedDefinition", "LoadedDefinition", "ReportPlan", "SourcePlan",
           "load_definition", "resolve"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class CheckedDefinition(LoadedDefinition):
    """A loaded definition checked against the registries, with the params it validated
    (by metric and chart id), so ``resolve`` does not validate them again."""

    metric_params: Mapping[str, Validated] = field(default_factory=dict)
    chart_params: Mapping[str, Validated] = field(default_factory=dict)


def load_definition(path: Path | str, environ: Mapping[str, str] | None = None) -> CheckedDefinition:
    """Load the definition at ``path`` and check everything a run needs; raises
    DefinitionError listing every problem with its file, line and column."""
    registry = RegistryCheck()
    loaded = _load(path, environ, checks=(registry, delivery_problems))
    return CheckedDefinition(loaded.definition, loaded.path, loaded.base_dir, loaded.hash,
                             dict(registry.metric_params), dict(registry.chart_params))


@dataclass(frozen=True)
class ChartPlan:
    """A chart with its validated params.  Its builder (the drawing code, and matplotlib
    with it) is loaded when the chart is drawn: a regeneration that reuses every figure
    never loads it."""

    spec: ChartSpec
    params: BaseModel

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def builder(self) -> ChartBuilder:
        from reportgen.charts import CHARTS

        return CHARTS.instance(self.spec.type)


@dataclass(frozen=True)
class SourcePlan:
    name: str
    spec: SourceSpec
    #: every column the report reads from this source (beyond the time column and contract)
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ReportPlan:
    """Everything a run of one definition needs, resolved."""

    loaded: LoadedDefinition
    metrics: tuple[MetricPlan, ...]
    charts: tuple[ChartPlan, ...]
    sources: Mapping[str, SourcePlan]

    @property
    def definition(self) -> Definition:
        return self.loaded.definition

    def metric(self, metric_id: str) -> MetricPlan:
        for plan in self.metrics:
            if plan.spec.id == metric_id:
                return plan
        raise KeyError(metric_id)

    @property
    def headline(self) -> tuple[str, ...]:
        """The headline metrics (``insights.context.headline_metrics``)."""
        from reportgen.insights.context import headline_metrics

        return headline_metrics(self.definition)


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


def resolve(loaded: LoadedDefinition) -> ReportPlan:
    """The plan of a loaded (and checked) definition: each metric and chart with the params
    its check validated (validated here when the definition was loaded without it)."""
    from reportgen.charts import params_model
    from reportgen.metrics.base import calculator
    from reportgen.metrics.engine import MetricPlan

    d = loaded.definition
    known = _Params(loaded)
    metrics: list[MetricPlan] = []
    for i, spec in enumerate(d.metrics):
        calc = calculator(spec.calculator)
        params = known.get(calc.Params, "metrics", i, spec.id, spec.params)
        if params is not None:
            metrics.append(MetricPlan.resolve(spec, params, d.statistics,
                                              d.sources.get(spec.source)))
    charts: list[ChartPlan] = []
    for i, chart in enumerate(d.charts):
        chart_params = known.get(params_model(chart.type), "charts", i, chart.id,
                                 chart.params)
        if chart_params is not None:
            charts.append(ChartPlan(chart, chart_params))
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
