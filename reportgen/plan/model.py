"""The types of a resolved report plan: frozen, built once by ``plan.resolve``, read by every stage.

They sit just above ``definition`` in the layers, so any stage of the pipeline may take
them.  What a plan holds of the registries (a metric's calculator, its validated params and
the aggregation it asks for, a chart's builder) is typed here by the few members the plan
itself reads (``Calculating``, ``ReadsColumns``, ``ChartBuilding``), so this module imports
nothing from ``metrics`` or ``charts``; a plan that ``resolve`` built is a
``ReportPlan[MetricPlan[Calculator, CalculatorParams], ChartPlan[ChartBuilder]]``, and
the stages above ``metrics`` and ``charts`` name those types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel

from reportgen.definition import LoadedDefinition
from reportgen.definition.content_specs import ChartSpec, MetricSpec, SourceSpec, StatisticsSpec
from reportgen.definition.document import Definition
from reportgen.report.model.metric_results import Direction


class ReadsColumns(Protocol):
    """Validated params, or an aggregation, that name the columns they read."""

    def columns(self) -> Sequence[str]: ...


P_contra = TypeVar("P_contra", contravariant=True)
A_co = TypeVar("A_co", covariant=True)


class Calculating(Protocol[P_contra, A_co]):
    """What a plan reads of a metric's calculator (``metrics.base.Calculator``)."""

    @property
    def scope(self) -> str: ...

    def aggregation(self, params: P_contra) -> A_co | None: ...


class ChartBuilding(Protocol):
    """What a plan reads of a chart's builder (``charts.base.ChartBuilder``)."""

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Settings:
    """A metric's statistics settings: its own, else the definition's defaults."""

    min_n: int
    confidence: float
    alpha: float

    @classmethod
    def for_metric(cls, spec: MetricSpec, defaults: StatisticsSpec) -> Settings:
        return cls(
            min_n=spec.min_n if spec.min_n is not None else defaults.min_n,
            confidence=spec.confidence if spec.confidence is not None else defaults.confidence,
            alpha=spec.alpha if spec.alpha is not None else defaults.alpha,
        )


@dataclass(frozen=True)
class Validated:
    """Params as written and as validated by their entry's model."""

    raw: Mapping[str, object]
    params: BaseModel


@dataclass(frozen=True)
class CheckedDefinition(LoadedDefinition):
    """A loaded definition checked against the registries, with the params it validated
    (by metric and chart id), so ``resolve`` does not validate them again."""

    metric_params: Mapping[str, Validated] = field(default_factory=dict)
    chart_params: Mapping[str, Validated] = field(default_factory=dict)


C_co = TypeVar("C_co", covariant=True)
Params_co = TypeVar("Params_co", covariant=True)
P = TypeVar("P", bound=ReadsColumns)
A = TypeVar("A", bound=ReadsColumns)


@dataclass(frozen=True)
class MetricPlan(Generic[C_co, Params_co]):
    """One metric resolved: its calculator, validated params and statistics settings."""

    spec: MetricSpec
    calc: C_co
    params: Params_co
    settings: Settings
    direction: Direction

    @property
    def breakdowns(self) -> tuple[tuple[str, ...], ...]:
        return tuple((c,) if isinstance(c, str) else tuple(c) for c in self.spec.by)

    # Asked of the calculator each time rather than kept: an aggregation holds the
    # functions that build its SQL, and a plan travels to render processes by pickle.
    @property
    def aggregation(self: MetricPlan[Calculating[P, A], P]) -> A | None:
        """The aggregates the metric needs per period, or None when it reads rows."""
        if self.calc.scope != "period":
            return None
        return self.calc.aggregation(self.params)

    def columns(self: MetricPlan[Calculating[P, A], P]) -> list[str]:
        """Every column the metric reads."""
        out = [*self.params.columns(), *self.spec.filter]
        for cols in self.breakdowns:
            out.extend(cols)
        aggregation = self.aggregation
        if aggregation is not None:
            out.extend(aggregation.columns())
        return list(dict.fromkeys(out))


B_co = TypeVar("B_co", bound=ChartBuilding, covariant=True)


@dataclass(frozen=True)
class ChartPlan(Generic[B_co]):
    """One chart resolved: its validated params, and how to load its builder.  The builder
    (the drawing code, and matplotlib with it) is loaded when the chart is drawn, so a
    regeneration that reuses every figure never loads it."""

    spec: ChartSpec
    params: BaseModel
    #: a picklable no-argument callable giving the builder (plans go to render processes)
    load_builder: Callable[[], B_co]

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def builder(self) -> B_co:
        return self.load_builder()


@dataclass(frozen=True)
class SourcePlan:
    name: str
    spec: SourceSpec
    #: every column the report reads from this source (beyond the time column and contract)
    columns: tuple[str, ...]


M_co = TypeVar("M_co", bound=MetricPlan[object, object], covariant=True)
Chart_co = TypeVar("Chart_co", bound=ChartPlan[ChartBuilding], covariant=True)


@dataclass(frozen=True)
class SegmentScope:
    """The one segment a fan-out's segment report is about (``reportgen.run.fanout``).

    Its sources are split by the fan-out columns except ``whole_sources`` (calibration
    sessions, say), whose figures are the whole organisation's in every segment's report."""

    columns: tuple[str, ...]
    values: tuple[str, ...]
    #: how the report names the whole: ``all queues``
    whole_label: str
    whole_sources: frozenset[str] = frozenset()
    #: the whole's values of the segment's KPIs (``For comparison with this queue's
    #: figures, all queues: CSAT 84.1%``), said in the company-wide block only
    comparison: str = ""

    def about(self, column: str, value: object) -> bool:
        """Whether ``column = value`` is this segment (True for a column it does not split)."""
        where = dict(zip(self.columns, self.values, strict=True))
        return column not in where or str(value) == where[column]


@dataclass(frozen=True)
class ReportPlan(Generic[M_co, Chart_co]):
    """Everything a run of one definition needs, resolved."""

    loaded: LoadedDefinition
    metrics: tuple[M_co, ...]
    charts: tuple[Chart_co, ...]
    sources: Mapping[str, SourcePlan]
    #: the segment a fan-out's segment report is about; None for a whole report
    segment: SegmentScope | None = None

    @property
    def definition(self) -> Definition:
        return self.loaded.definition

    def metric(self, metric_id: str) -> M_co:
        for plan in self.metrics:
            if plan.spec.id == metric_id:
                return plan
        raise KeyError(metric_id)

    def chart(self, chart_id: str) -> Chart_co:
        for plan in self.charts:
            if plan.id == chart_id:
                return plan
        raise KeyError(chart_id)

    @property
    def headline(self) -> tuple[str, ...]:
        """The headline metrics (``headline_metrics``)."""
        return headline_metrics(self)


#: A plan whatever its metrics' calculators and its charts' builders are: what a stage
#: below ``metrics`` and ``charts`` takes (it reads the plan's own fields, not theirs).
AnyReportPlan: TypeAlias = ReportPlan[MetricPlan[object, object], ChartPlan[ChartBuilding]]


def headline_metrics(plan: AnyReportPlan) -> tuple[str, ...]:
    """The report's headline metrics, in order: the definition's ``summary``, or every
    section's first KPI.  The summary's KPI tiles and the headline claims both use them."""
    definition = plan.definition
    chosen = definition.summary or [s.kpis[0] for s in definition.sections if s.kpis]
    return tuple(dict.fromkeys(chosen))
