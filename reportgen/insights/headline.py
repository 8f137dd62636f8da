"""Which claims the executive summary may make: the report-level false-claim budget.

Each family of tests holds its own chance of a false claim at alpha (a metric's change
against last month and last year, its segments behind that change, its causes, each
intervention).  A report holds many families, and a reader takes the summary as one
statement: on data where nothing changed, a summary that lists any claim of any family
says something false far more often than alpha (a 13-month report with five headline
metrics in about a quarter of runs, ``tests/insights/test_headline_claims.py``).

So the summary's claims are controlled together:

* **The headline set** is every family of tests about the report's headline metrics (the
  summary KPIs, ``InsightContext.headline``), whether or not it claimed anything: the
  change family (previous period and same period last year, with the segments tested
  behind it), the cause family, each intervention, a control chart's signal.  A family
  counts as one test, with its smallest adjusted p-value (for a control-chart signal, the
  rule's nominal false-alarm rate: 0.27% beyond 3-sigma limits, 2 x 0.5^8 for a run of 8).
* **Holm over the headline set** at the report's alpha (``statistics.alpha``).  A claim
  survives when its family survives and its own family-level p-value is also below that
  alpha; its report-level p-value is the larger of the two.  A segment claimed behind a
  significant overall change carries the overall change's p-value as well.
* **Only surviving claims reach the summary.**  A claim about a metric that is not a
  headline metric, or one that does not survive, keeps its place and family-level wording
  in its section and is left out of the executive summary (``numbers["headline"]`` is
  False).  Findings that claim no change (targets, top causes, notes) are not affected.

On data with no effect anywhere this keeps the chance that the summary claims any change
at or below alpha; once one change is real, each other family is still held at alpha.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from reportgen.insights.context import InsightContext
from reportgen.insights.segments import is_cause_breakdown, segment_tests
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding
from reportgen.stats import significance as stats

#: Nominal false-alarm rates of the control-chart rules (``insights.control``), used as
#: the p-value of a signal: beyond 3-sigma limits (two-sided), and a run of eight points on
#: one side of the centre line ending with the latest point.
CONTROL_RULE_RATES: Mapping[str, float] = {"beyond limits": 0.0027, "run of 8": 2 * 0.5 ** 8}

#: The finding kinds whose claims belong to a metric's change family.
_CHANGE_KINDS = frozenset({"significant_change", "year_over_year", "driver"})
_SEGMENT_KINDS = frozenset({"segment_change", "cause_growth", "top_causes"})


def is_claim(finding: Finding) -> bool:
    """Whether the finding says a change or difference is real (a supported claim)."""
    return finding.direction in ("improved", "declined") or bool(finding.numbers.get("significant"))


def in_summary(finding: Finding) -> bool:
    """Whether the executive summary may show the finding (see the module docstring)."""
    return finding.numbers.get("headline") is not False


def _p(value: object) -> float | None:
    if isinstance(value, (int, float)) and not math.isnan(value):
        return float(value)
    return None


def _change_p(metric: MetricResult) -> float | None:
    """The change family's p-value: the smaller of the (Holm-adjusted) change tests."""
    found = [p for c in (metric.change, metric.year_over_year) if c is not None
             and (p := _p(c.p_value)) is not None]
    return min(found) if found else None


def _control_p(finding: Finding) -> float | None:
    rates = [CONTROL_RULE_RATES[r] for r in finding.numbers.get("rules", ())
             if r in CONTROL_RULE_RATES]
    return min(rates) if rates else None


def _claim_family(ctx: InsightContext, metric: MetricResult,
                  finding: Finding) -> tuple[str, float | None]:
    """The family a claim belongs to, and the claim's own family-level p-value."""
    kind, numbers = finding.kind, finding.numbers
    change_p = metric.change.p_value if metric.change is not None else None
    if kind in _CHANGE_KINDS:
        own = _p(numbers.get("p_value")) if kind != "driver" else _p(change_p)
        return "change", own
    if kind in _SEGMENT_KINDS:
        breakdown = str(numbers.get("breakdown", ""))
        if kind == "top_causes":
            return "causes", 0.0  # names the causes that grew: the family's p-value decides
        if is_cause_breakdown(ctx, metric, breakdown):
            return "causes", _p(numbers.get("p_adjusted"))
        own, gate = _p(numbers.get("p_adjusted")), _p(change_p)
        return "change", None if own is None or gate is None else max(own, gate)
    if kind == "out_of_control":
        return "control", _control_p(finding)
    if kind == "intervention":
        return f"intervention: {numbers.get('intervention')}", _p(numbers.get("p_value"))
    own = _p(numbers.get("p_adjusted"))
    return kind, own if own is not None else _p(numbers.get("p_value"))


def _families(ctx: InsightContext, findings: Sequence[Finding]) -> dict[tuple[str, str], float]:
    """Every tested family of the headline metrics, with its p-value (1 when it signalled
    nothing and has no p-value, as a control chart without a signal)."""
    families: dict[tuple[str, str], float] = {}

    def add(key: tuple[str, str], p: float | None) -> None:
        if p is not None:
            families[key] = min(p, families.get(key, 1.0))

    for metric_id in sorted(ctx.headline):
        metric = ctx.metrics.get(metric_id)
        if metric is None or metric.suppressed is not None:
            continue
        if "p_chart" in metric.details:
            families[(metric_id, "control")] = 1.0
        else:
            add((metric_id, "change"), _change_p(metric))
        causes = [t.p_adjusted for t in segment_tests(ctx, metric)
                  if is_cause_breakdown(ctx, metric, t.breakdown)]
        add((metric_id, "causes"), min((p for p in causes if not math.isnan(p)), default=None))
    for finding in findings:
        metric = ctx.metrics.get(finding.metric_id)
        if metric is None or not ctx.is_headline(finding.metric_id):
            continue
        if finding.kind == "intervention":
            add((finding.metric_id, f"intervention: {finding.numbers.get('intervention')}"),
                _p(finding.numbers.get("p_value")))
        elif is_claim(finding):
            family, own = _claim_family(ctx, metric, finding)
            if family in ("change", "causes") and (finding.metric_id, family) in families:
                continue
            add((finding.metric_id, family), own)
    return families


def headline_claims(ctx: InsightContext, findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` with every claim marked for the summary or not (see the module docstring).

    A claim gets ``numbers["headline"]`` (whether the summary may state it) and, when it
    belongs to the headline set, ``numbers["report_p"]`` (its report-level p-value).
    """
    families = _families(ctx, findings)
    keys = list(families)
    adjusted = dict(zip(keys, stats.holm([families[k] for k in keys]), strict=True))
    alpha = ctx.definition.statistics.alpha
    out: list[Finding] = []
    for finding in findings:
        metric = ctx.metrics.get(finding.metric_id)
        if not is_claim(finding) or metric is None:
            out.append(finding)
            continue
        report_p: float | None = None
        if ctx.is_headline(finding.metric_id):
            family, own = _claim_family(ctx, metric, finding)
            family_p = adjusted.get((finding.metric_id, family))
            if own is not None and family_p is not None:
                report_p = max(own, family_p)
        numbers = {**finding.numbers, "headline": report_p is not None and report_p < alpha}
        if report_p is not None:
            numbers["report_p"] = report_p
        out.append(replace(finding, numbers=numbers))
    return out
