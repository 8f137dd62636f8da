"""The methodology's notes on each metric, and the report's warnings (failed data checks,
metrics left without a value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reportgen import text
from reportgen.data.gates import GateResult
from reportgen.period import Period
from reportgen.report.model.metric_results import ALL_EQUAL, MetricResult
from reportgen.report.model.report_model import MethodNote

_LISTED_SUPPRESSIONS = 6


def method_note(result: MetricResult) -> MethodNote:
    if result.interval and result.interval.method == ALL_EQUAL:
        interval = f"no interval: {text.interval_text(result.interval, result.unit, n=result.n)}"
    elif result.interval:
        interval = f"{result.interval.method} {text.percent(result.interval.level, 0)} interval"
    elif result.unit == "count":
        interval = "exact count (no interval)"
    elif result.value is None:
        interval = "no interval (no value in the period)"
    else:
        interval = "no confidence interval is computed for this statistic"
    change = result.change
    test = interval
    if change and change.test:
        test += f"; {change.test} vs {change.against} at {text.significance(change.alpha)}"
        if change.p_value is not None:
            test += f" ({text.p_value(change.p_value, change.alpha)})"
    suppressed = [f"{p.label}: {p.suppressed}" for p in result.history if p.suppressed]
    for name, rows in result.breakdowns.items():
        hidden = [r for r in rows if r.suppressed]
        if len(hidden) > _LISTED_SUPPRESSIONS:  # a long list helps nobody: say how many and why
            largest = max(r.n for r in hidden)
            suppressed.append(f"{name}: {len(hidden)} of {len(rows)} segments not shown, each "
                              f"with too few observations (largest {text.n_text(largest)})")
        else:
            suppressed += [f"{name} = {r.label}: {r.suppressed}" for r in hidden]
    return MethodNote(metric_id=result.metric_id, label=result.label, formula=result.formula,
                      test=test, n_text=f"{text.n_text(result.n)} in the period",
                      suppressed=tuple(suppressed))


def data_warnings(metrics: Mapping[str, MetricResult], gates: Sequence[GateResult],
              period: Period) -> tuple[str, ...]:
    """The report's warnings: each failed data check, and each metric left without a value."""
    notes = [f"Data check: {g.message}." for g in gates if not g.passed]
    label = text.period_label(period.grain, period.start)
    notes += [f"{m.label}: {m.suppressed}; no value is reported for {label}."
              for m in metrics.values() if m.suppressed]
    return tuple(notes)
