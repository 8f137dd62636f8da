"""The resolved report plan: a definition checked once, with everything looked up.

``load_definition`` reads and checks a YAML file (the document, then the registry names and
params, all problems reported together); ``resolve`` turns it into a ``ReportPlan``: each
metric with its calculator and validated params and statistics settings, each chart with its
builder and validated params, and per source the columns it must deliver.  Every later
stage takes the plan; nothing after it looks a name up in a registry or validates a raw
``params`` dict again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.definition import LoadedDefinition
from reportgen.definition import load_definition as _load
from reportgen.definition.content_specs import ChartSpec, SourceSpec
from reportgen.definition.document import Definition
from reportgen.plan.checks import registry_problems
from reportgen.plan.delivery import delivery_problems

if TYPE_CHECKING:
    from reportgen.metrics.engine import MetricPlan

__all__ = ["ChartPlan", "LoadedDefinition", "ReportPlan", "SourcePlan", "load_definition",
           "resolve"]


def load_definition(path: Path | str, environ: Mapping[str, str] | None = None) -> LoadedDefinition:
    """Load the definition at ``path`` and check everything a run needs; raises
    DefinitionError listing every problem with its file, line and column."""
    return _load(path, environ, checks=(registry_problems, delivery_problems))


@dataclass(frozen=True)
class ChartPlan:
    spec: ChartSpec
    builder: Any
    params: Any

    @property
    def id(self) -> str:
        return self.spec.id


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
        d = self.definition
        if d.summary is not None:
            return tuple(d.summary)
        return tuple(s.kpis[0] for s in d.sections if s.kpis)


def resolve(loaded: LoadedDefinition) -> ReportPlan:
    """The plan of a loaded (and checked) definition."""
    from reportgen.charts import CHARTS
    from reportgen.metrics.engine import MetricPlan

    d = loaded.definition
    metrics = tuple(MetricPlan.resolve(spec, d.statistics, d.sources.get(spec.source))
                    for spec in d.metrics)
    charts = tuple(ChartPlan(spec, CHARTS.instance(spec.type),
                             CHARTS.instance(spec.type).Params.model_validate(spec.params))
                   for spec in d.charts)
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
    return ReportPlan(loaded, metrics, charts, sources)
