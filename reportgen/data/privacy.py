"""Personal data in results: breakdown segments over personal columns are counted, not named.

Which columns are personal is the definition's business (``reportgen.definition.pii``);
this module applies it to the opened data and to the computed results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from reportgen.definition.pii import personal_columns

if TYPE_CHECKING:
    from reportgen.definition.content_specs import SourceSpec
    from reportgen.plan.model import AnyReportPlan
    from reportgen.report.model.metric_results import BreakdownRow, MetricResult


def missing_in_data(spec: SourceSpec, available: Iterable[str]) -> list[str]:
    """``pii`` entries matching no column of the opened data (by either name)."""
    have = set(available)
    return [entry for entry in spec.pii
            if entry not in have and spec.rename.get(entry) not in have and entry not in spec.derive]


def personal_breakdowns(plan: AnyReportPlan) -> dict[str, set[str]]:
    """Per metric id, the breakdown keys ('queue,agent_name') that read a personal column
    (one ``allow_pii`` lets through: the others never pass validation)."""
    out: dict[str, set[str]] = {}
    for metric in plan.metrics:
        source = plan.sources.get(metric.spec.source)
        if source is None:
            continue
        personal = personal_columns(source.spec)
        for columns in metric.breakdowns:
            if any(c in personal for c in columns):
                out.setdefault(metric.spec.id, set()).add(",".join(columns))
    return out


def count_suppressed(result: MetricResult, keys: Iterable[str]) -> MetricResult:
    """``result`` with the suppressed segments of the ``keys`` breakdowns folded into one
    row that counts them: a segment too small to show is, over personal data, usually one
    person, so its name is not printed either."""
    breakdowns = dict(result.breakdowns)
    for key in keys:
        rows = breakdowns.get(key)
        if not rows:
            continue
        hidden = [r for r in rows if r.suppressed]
        if not hidden:
            continue
        width = len(rows[0].key)
        folded: BreakdownRow = replace(
            hidden[0], key=(f"{len(hidden)} segment(s) not named",) + ("",) * (width - 1),
            value=None, n=sum(r.n for r in hidden), numerator=None, denominator=None,
            interval=None, change=None, status=None,
            suppressed=f"{len(hidden)} segment(s) with too few observations")
        breakdowns[key] = tuple(r for r in rows if not r.suppressed) + (folded,)
    return replace(result, breakdowns=breakdowns)


def mask_results(plan: AnyReportPlan,
                 results: Mapping[str, MetricResult]) -> dict[str, MetricResult]:
    """Every metric result, with personal breakdowns' suppressed segments counted, not named."""
    personal = personal_breakdowns(plan)
    return {metric_id: count_suppressed(result, personal[metric_id])
            if metric_id in personal else result for metric_id, result in results.items()}
