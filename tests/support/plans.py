"""Plans of definitions built in memory, through the same ``resolve`` a run uses."""

from __future__ import annotations

from pathlib import Path

from reportgen.charts.base import ChartBuilder
from reportgen.definition import LoadedDefinition
from reportgen.definition.content_specs import MetricSpec, SourceSpec, StatisticsSpec
from reportgen.definition.document import Definition
from reportgen.metrics.base import calculator
from reportgen.metrics.engine import ResolvedMetric, plan_metric
from reportgen.plan import resolve
from reportgen.plan.model import ChartPlan, ReportPlan


def plan_of(definition: Definition,
            path: Path | None = None) -> ReportPlan[ResolvedMetric, ChartPlan[ChartBuilder]]:
    """The plan of ``definition`` (its params validated by ``resolve``; ``path`` is where a
    problem is said to be)."""
    where = path or Path("definition.yaml")
    return resolve(LoadedDefinition(definition, where, where.parent, ""))


def metric_plans(definition: Definition) -> dict[str, ResolvedMetric]:
    """The resolved metrics of ``definition``, by id (what a run hands to the insights)."""
    return {m.spec.id: m for m in plan_of(definition).metrics}


def metric_plan(spec: MetricSpec, defaults: StatisticsSpec | None = None,
                source: SourceSpec | None = None) -> ResolvedMetric:
    """One metric's plan, its params validated by its calculator (pydantic's
    ValidationError when they are wrong)."""
    params = calculator(spec.calculator).Params.model_validate(spec.params)
    return plan_metric(spec, params, defaults or StatisticsSpec(), source)
