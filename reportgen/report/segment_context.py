"""A segment's report (one queue's, of a fan-out) is about that segment only.

The plan's ``SegmentScope`` says which segment it is and which sources the fan-out does not
split.  Metrics of those sources are the whole organisation's: their tiles leave the
executive summary, their findings are told in their sections, and those sections are shown
together in one block titled ``Company-wide context (all queues)``, which also gives the
whole's values of the segment's own KPIs to compare with (nowhere else: a company figure
beside the segment's would read as the segment's).  A finding scoped to
another segment is not the report's, and one scoped to exactly this segment restates the
report's own figure (the Billing report's CSAT *is* the Billing queue's): both are left out.
"""

from __future__ import annotations

from reportgen.insights.text import breakdown_noun
from reportgen.plan.model import AnyReportPlan, SegmentScope
from reportgen.report.model.sections import Finding

#: kinds whose scope is declared, not found in the data: scoped to this segment, they are
#: the segment's own news (its coaching programme)
_DECLARED = frozenset({"intervention"})


def whole_metric_ids(plan: AnyReportPlan) -> frozenset[str]:
    """The metrics of a segment report that are the whole organisation's (none otherwise)."""
    scope = plan.segment
    if scope is None:
        return frozenset()
    return frozenset(m.spec.id for m in plan.metrics if m.spec.source in scope.whole_sources)


def context_title(scope: SegmentScope | None) -> str:
    """``Company-wide context (all queues)``; empty for a whole report."""
    return "" if scope is None else f"Company-wide context ({scope.whole_label})"


def context_comparison(scope: SegmentScope | None) -> str:
    """The whole's values of the segment's KPIs, for the block; empty for a whole report."""
    return "" if scope is None else scope.comparison


def context_intro(scope: SegmentScope | None) -> str:
    if scope is None:
        return ""
    nouns = breakdown_noun(",".join(scope.columns))
    return (f"These figures come from data that is not split by {nouns}: they are for "
            f"{scope.whole_label}, the same in every {nouns}'s report.")


def _parts(finding: Finding) -> list[tuple[str, str]] | None:
    """``queue = Billing, channel = Email`` as its (column, value) pairs; None for a scope
    that names no segment (``overall``, ``by queue,category``)."""
    pairs = []
    for part in finding.scope.split(", "):
        column, sep, value = part.partition(" = ")
        if not sep:
            return None
        pairs.append((column.strip(), value.strip()))
    return pairs


def about_segment(finding: Finding, scope: SegmentScope | None) -> bool:
    """Whether a segment's report tells ``finding`` (always, for a whole report)."""
    if scope is None:
        return True
    pairs = _parts(finding)
    if pairs is None:
        return True
    if not all(scope.about(column, value) for column, value in pairs):
        return False  # another segment's
    restates = all(column in scope.columns for column, _ in pairs)
    return not restates or finding.kind in _DECLARED
