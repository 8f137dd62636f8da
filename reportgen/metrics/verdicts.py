"""How a metric's estimates are judged: withheld, compared, against target.

Anything under the minimum n is suppressed with the reason, never silently dropped; a change
is tested (the changes of one metric together as one Holm family); a value and every
breakdown row get a status against target, the rows as one Bonferroni family.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from reportgen.definition.content_specs import MetricSpec
from reportgen.metrics.estimates import Proportion
from reportgen.period import Period
from reportgen.plan.model import Settings
from reportgen.report.model.metric_results import (
    BreakdownRow,
    Change,
    Direction,
    Interval,
    Status,
)

if TYPE_CHECKING:
    from reportgen.metrics.estimates import Estimate


def suppression(estimate: Estimate, settings: Settings, where: str) -> str | None:
    """Why a value is withheld, or None.  Counts are exact, so the minimum n does not apply."""
    if estimate.n == 0:
        return f"no data for {where}"
    if estimate.value is None:  # e.g. a kappa where every rater used the same category
        return f"undefined for {where}: the statistic has no value on these data (n = {estimate.n})"
    if estimate.kind != "count" and estimate.n < settings.min_n:
        return f"n = {estimate.n} is below the minimum of {settings.min_n}"
    return None


def target_status(value: float | None, target: float | None, direction: Direction,
                  interval: Interval | None, margin: float | None) -> Status | None:
    """On target, at risk or off target.

    Without an explicit margin, a miss whose confidence interval still reaches the target is
    'at risk' (the data cannot tell it from on target); a miss the interval excludes is 'off
    target'.
    """
    if value is None or target is None:
        return None
    sign = 1 if direction == "higher" else -1
    if sign * (value - target) >= 0:
        return "on_target"
    if margin is not None:
        return "at_risk" if abs(value - target) <= margin else "off_target"
    if interval is not None:
        reaches = interval.high >= target if direction == "higher" else interval.low <= target
        return "at_risk" if reaches else "off_target"
    return "off_target"


def compare(current: Estimate, previous: Estimate, settings: Settings, against: str,
            current_ok: bool, previous_ok: bool) -> Change:
    """The change from ``previous`` (labelled ``against``) with its test; no test when either
    side is withheld (``current_ok``/``previous_ok`` false)."""
    if current_ok and previous_ok:
        change = current.compare(previous, settings.alpha)
    else:  # a suppressed side supports no claim about the change
        change = Change(previous=previous.value if previous_ok else None, previous_n=previous.n,
                        delta=None, test=None, statistic=None, p_value=None,
                        significant=False, alpha=settings.alpha)
    return Change(**{**change.__dict__, "against": against})


def holm_family(*changes: Change) -> tuple[Change, ...]:
    """The changes of one metric (previous period, same period last year) as one family.

    A report that states both a month-on-month and a year-over-year change makes two claims
    about one metric; each at full alpha would claim a change on null data nearly twice as
    often as alpha.  Their p-values are Holm-adjusted together (the adjusted p is what is
    reported, and the test name says so); a change without a test is not counted.
    """
    tested = [c for c in changes if c.p_value is not None]
    if len(tested) < 2:
        return changes
    from reportgen.stats import significance as stats

    adjusted = iter(stats.holm([c.p_value for c in tested]))
    out = []
    for change in changes:
        if change.p_value is None:
            out.append(change)
            continue
        p = next(adjusted)
        assert p is not None
        out.append(replace(change, p_value=p, significant=p < change.alpha,
                           test=f"{change.test} (Holm-adjusted, {len(tested)} comparisons)"))
    return tuple(out)

def _exact(estimate: Estimate) -> bool:
    """Whether the segment's status is judged on the exact binomial bound (a share of
    independent answers; clustered shares have no exact bound)."""
    return type(estimate) is Proportion


def _status_interval(estimate: Estimate, level: float) -> Interval | None:
    """The interval a segment's status is judged on at the family's ``level``: for a share
    of independent answers the exact Clopper-Pearson one, whose one-sided tails stay under
    ``(1 - level) / 2`` (Wilson's ran over near a 0.85 target), else the shown method's."""
    if _exact(estimate):
        assert isinstance(estimate, Proportion)
        from reportgen.stats import intervals as stats

        low, high = stats.clopper_pearson_interval(estimate.successes, estimate.trials, level)
        return Interval(low, high, level, "Clopper-Pearson")
    return estimate.interval(level)


def breakdown_rows(spec: MetricSpec, settings: Settings, direction: Direction,
                   now: Mapping[tuple[str, ...], Estimate],
                   before: Mapping[tuple[str, ...], Estimate],
                   previous_period: Period) -> tuple[BreakdownRow, ...]:
    """One row per segment in the current period, each with its own change.

    A segment absent from the previous period has no change rather than a change from zero.
    Each row's status against target is one claim of a family (every shown segment of the
    breakdown): a segment is off target only when its interval at the Bonferroni-adjusted
    level ``1 - (1 - confidence) / m`` excludes the target (for shares of independent
    answers the exact Clopper-Pearson bound, whose one-sided tail is at most
    ``(1 - confidence) / 2m``), so a breakdown of m segments all truly on target names one
    off target in at most ``(1 - confidence) / 2`` of reports.
    The row's interval is still shown at the metric's level.
    """
    reasons = {key: suppression(est, settings, " / ".join(key)) for key, est in now.items()}
    family = sum(1 for reason in reasons.values() if reason is None)
    status_level = 1 - (1 - settings.confidence) / max(family, 1)
    rows: list[BreakdownRow] = []
    for key in sorted(now):
        est = now[key]
        reason = reasons[key]
        change = None
        if key in before:
            earlier = before[key]
            before_ok = suppression(earlier, settings, previous_period.label) is None
            change = compare(est, earlier, settings, previous_period.label, reason is None,
                             before_ok)
        interval = None if reason else est.interval(settings.confidence)
        value = None if reason else est.value
        judged = interval
        if interval is not None and spec.target is not None and spec.at_risk_margin is None:
            judged = _status_interval(est, status_level) if family > 1 or _exact(est) \
                else interval
        rows.append(BreakdownRow(
            key=key, value=value, n=est.n, numerator=est.numerator, denominator=est.denominator,
            interval=interval, change=change,
            status=target_status(value, spec.target, direction, judged, spec.at_risk_margin),
            suppressed=reason))
    return tuple(rows)
