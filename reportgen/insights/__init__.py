"""Deterministic findings: what changed and why, stated only when the data supports it.

``build_insights`` reads the computed metrics (and, where a finding needs raw rows, the
sources' frames) and returns findings ranked by impact.  No language model is involved:
every finding comes from a test or a rule documented in its module, carries the numbers it
rests on, and reads as a sentence rendered from a template (``text``).

Finding kinds, by module:

==========================  =================  ==============================================
kind                        module             what it says
==========================  =================  ==============================================
significant_change          changes            overall change vs the previous period
year_over_year              changes            overall change vs the same period last year
no_significant_change       changes            headline metric: no significant change (p = …)
no_test                     changes            headline count: both values, no claim
segment_change              segments           a segment changed (Holm, behind the overall)
driver                      drivers            mix vs rate split of a significant change
top_causes, cause_growth    pareto             the few causes covering the pareto cut; growth
target_breach, _streak      targets            off target now / N periods running
target_at_risk              targets            short of target within the margin of error
segments_off_target         targets            segments off target
out_of_control              control            p-chart signal on the latest point
control_history             control            earlier p-chart signals (context)
calibration_outlier         calibration        auditor outside tolerance
calibration_drift           calibration        auditor's bias changed significantly
intervention                interventions      before/after of a declared intervention
anomaly, target_projection  forecast           outside the seasonal band; quarter projection
small_sample                samples            a value or comparison withheld (n < minimum)
moderation_*                moderation         precision/recall vs gold, overturns, error areas
rubric_validity, _retire    rubric             QA score vs outcomes; items that predict nothing
autoqa_*                    autoqa             automatic vs human scoring: stand-in, drift, IQS
audit_shortfall, _skips,    audit_sample       audits needed per group; skipped vs audited
audit_mix                                      items; the sample's mix, reweighted KPI
==========================  =================  ==============================================

``Finding.direction`` is "improved"/"declined" only for a statistically supported claim (a
significant test after multiplicity control, or a control-chart signal), judged by the
metric's direction; ``Finding.numbers["significant"]`` marks every such claim, and
``numbers["headline"]`` whether the executive summary may state it (``headline``: the
headline metrics' families are Holm-adjusted together at the report's alpha).  Severity is
documented in ``severity``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from reportgen.data.rows import Rows
from reportgen.insights.audit_sample import audit_sample_findings
from reportgen.insights.autoqa import autoqa_findings
from reportgen.insights.calibration import calibration_findings
from reportgen.insights.changes import change_findings
from reportgen.insights.context import InsightContext
from reportgen.insights.control import control_findings
from reportgen.insights.drivers import driver_findings
from reportgen.insights.forecast import forecast_findings
from reportgen.insights.headline import headline_claims
from reportgen.insights.interventions import intervention_findings
from reportgen.insights.moderation import moderation_findings
from reportgen.insights.pareto import pareto_findings
from reportgen.insights.qa_programme import qa_programme_findings
from reportgen.insights.rubric import rubric_findings
from reportgen.insights.samples import sample_findings
from reportgen.insights.segments import (
    is_cause_breakdown,
    segment_findings,
    segment_tests,
)
from reportgen.insights.severity import KIND_ORDER
from reportgen.insights.targets import target_findings
from reportgen.insights.themes import theme_findings
from reportgen.period import Period
from reportgen.plan.model import ChartBuilding, ChartPlan, ReportPlan
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding

if TYPE_CHECKING:
    from reportgen.metrics.engine import ResolvedMetric

__all__ = ["build_insights", "rank"]


def build_insights(plan: ReportPlan[ResolvedMetric, ChartPlan[ChartBuilding]],
                   metrics: Mapping[str, MetricResult],
                   frames: Rows | Mapping[str, pd.DataFrame], period: Period,
                   history: Sequence[Period]) -> tuple[Finding, ...]:
    """Every finding for ``period``, ranked by impact (severity, highest first).

    ``frames`` gives a source's rows over the whole history window (a ``Rows`` that queries
    them where they live, or a mapping of source name to a frame), with the ``__period__``
    column and the source's time column in the report timezone; ``history`` is the window's
    periods, oldest first, ending with ``period``.  The plan's metrics hold the statistics
    settings findings test at.  Only the few findings that need rows (calibration drift,
    interventions) read them, and only their columns and subset.
    """
    ctx = InsightContext.build(plan, metrics, frames, period, history)
    found: list[Finding] = []
    found += change_findings(ctx)
    for metric in metrics.values():
        tests = segment_tests(ctx, metric)
        plain = [t for t in tests if not is_cause_breakdown(ctx, metric, t.breakdown)]
        found += segment_findings(ctx, metric, plain)
        found += pareto_findings(ctx, metric, tests)
    found += driver_findings(ctx)
    found += target_findings(ctx)
    found += control_findings(ctx)
    found += forecast_findings(ctx)
    found += calibration_findings(ctx)
    found += intervention_findings(ctx)
    found += qa_programme_findings(ctx) + theme_findings(ctx)
    found += moderation_findings(ctx) + rubric_findings(ctx) + autoqa_findings(ctx)
    found += audit_sample_findings(ctx)
    found += sample_findings(ctx)
    return rank(headline_claims(ctx, found))


def rank(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Highest severity first; ties by kind, then metric, then scope (a stable order)."""
    return tuple(sorted(findings, key=lambda f: (-f.severity, KIND_ORDER.get(f.kind, 99),
                                                 f.metric_id, f.scope)))
