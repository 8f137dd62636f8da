"""The queue scorecard a definition may ask for: segments of one breakdown (the queues)
against a few headline KPIs, each with its value, change, status and a 13-month sparkline.

The scorecard only shows what the metrics compute: every KPI it names must have the
scorecard's column among its own breakdowns (``by``), which ``scorecard_problems`` checks
with the other cross-references (``definition.checks``), each problem located at its line.
"""

from __future__ import annotations

from pydantic import Field

from reportgen.definition.fields import Identifier, Strict

#: more KPIs than this do not fit a portrait page's width beside the segment names
MAX_SCORECARD_METRICS = 5


class ScorecardSpec(Strict):
    """``scorecard: {by: queue, metrics: [csat, qa_score, tickets]}``."""

    by: Identifier = Field(description="The column whose segments are the scorecard's rows (each metric must have it in its 'by').")
    metrics: list[str] = Field(min_length=1, max_length=MAX_SCORECARD_METRICS, description="Metric ids shown as the scorecard's columns: value, change vs the previous period, status and a sparkline of the segment's history.")
    title: str | None = Field(None, description="The scorecard's title; defaults to 'Scorecard by <by>'.")

