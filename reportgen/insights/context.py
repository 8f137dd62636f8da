"""What every finding kind needs to know about the run, gathered once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reportgen.data.rows import Rows, as_rows
from reportgen.definition.content_specs import MetricSpec
from reportgen.insights.severity import severity as impact
from reportgen.insights.text import Verdict
from reportgen.period import Period
from reportgen.plan.model import ChartBuilding, ChartPlan, ReportPlan
from reportgen.report.model.metric_results import MetricResult, Tone
from reportgen.report.model.sections import Finding

if TYPE_CHECKING:
    from reportgen.definition.document import Definition
    from reportgen.metrics.engine import ResolvedMetric


@dataclass(frozen=True)
class InsightContext:
    """The inputs of ``build_insights`` plus the per-metric settings findings depend on."""

    plan: ReportPlan[ResolvedMetric, ChartPlan[ChartBuilding]]
    metrics: Mapping[str, MetricResult]
    frames: Rows
    period: Period
    history: Sequence[Period]
    #: the plan's metrics (calculator, validated params, statistics settings), by metric id
    plans: Mapping[str, ResolvedMetric]
    headline: frozenset[str]

    @classmethod
    def build(cls, plan: ReportPlan[ResolvedMetric, ChartPlan[ChartBuilding]],
              metrics: Mapping[str, MetricResult], frames: Rows | Mapping[str, Any],
              period: Period, history: Sequence[Period]) -> InsightContext:
        return cls(plan, metrics, as_rows(frames), period, tuple(history),
                   {m.spec.id: m for m in plan.metrics}, frozenset(plan.headline))

    @property
    def definition(self) -> Definition:
        return self.plan.definition

    def spec(self, metric_id: str) -> MetricSpec | None:
        """The metric's definition, or None for a result the definition does not declare."""
        try:
            return self.definition.metric(metric_id)
        except KeyError:
            return None

    def alpha(self, metric_id: str) -> float:
        """The significance level the metric's changes are tested at (the report's for a
        result the plan does not hold)."""
        plan = self.plans.get(metric_id)
        return plan.settings.alpha if plan is not None else self.definition.statistics.alpha

    def min_n(self, metric_id: str) -> int:
        """The smallest sample the metric reports a value for (the report's for a result
        the plan does not hold)."""
        plan = self.plans.get(metric_id)
        return plan.settings.min_n if plan is not None else self.definition.statistics.min_n

    def is_headline(self, metric_id: str) -> bool:
        return metric_id in self.headline

    @property
    def previous(self) -> Period:
        return self.period.previous()

    def finding(self, kind: str, metric: MetricResult, scope: str, sentence: str, *,
                numbers: Mapping[str, Any], direction: Verdict = "none",
                tone: Tone = "neutral", magnitude: float = 0.0, reach: float = 1.0,
                severity_kind: str | None = None) -> Finding:
        """A Finding scored with the package's severity scheme."""
        score = impact(severity_kind or kind, magnitude=magnitude, reach=reach, tone=tone,
                       headline=self.is_headline(metric.metric_id))
        return Finding(kind=kind, metric_id=metric.metric_id, scope=scope, sentence=sentence,
                       severity=score, numbers=dict(numbers),
                       direction=direction, tone=tone)
