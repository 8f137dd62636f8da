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


def method_note(result: MetricResult, grain: str | None = None) -> MethodNote:
    """The metric's methodology note (``grain``: the report's period, which names a run of
    periods without data: "11 months")."""
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
    suppressed = _history_suppressions(result, grain)
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


def _history_suppressions(result: MetricResult, grain: str | None) -> list[str]:
    """Why history periods show no value, one line each; consecutive periods without data
    are one line ("Sep 25 to Jul 26: no data, 11 months"), not one line a month."""
    lines: list[str] = []
    run: list[str] = []  # labels of consecutive periods without data

    def close() -> None:
        if len(run) == 1:
            lines.append(f"{run[0]}: no data")
        elif run:
            noun = grain if grain in ("day", "week", "month", "quarter", "year") else "period"
            lines.append(f"{run[0]} to {run[-1]}: no data, {text.plural(len(run), noun)}")
        run.clear()

    for value in result.history:
        if value.suppressed and value.n == 0 and value.suppressed.startswith("no data"):
            run.append(value.label)
            continue
        close()
        if value.suppressed:
            lines.append(f"{value.label}: {value.suppressed}")
    close()
    return lines


def check_values(gates: Sequence[GateResult]) -> tuple[float, ...]:
    """The numbers the failed data checks state: what each found and what it expected."""
    values: list[float] = []
    for g in gates:
        if g.passed:
            continue
        if g.observed is not None:
            values.append(float(g.observed))
        values += [float(v) for v in g.gate.model_dump().values()
                   if isinstance(v, int | float) and not isinstance(v, bool)]
    return tuple(values)


def data_warnings(metrics: Mapping[str, MetricResult], gates: Sequence[GateResult],
              period: Period) -> tuple[str, ...]:
    """The report's warnings: each failed data check, and each metric left without a value."""
    notes = [f"Data check: {g.message}." for g in gates if not g.passed]
    label = text.period_label(period.grain, period.start)
    notes += [f"{m.label}: {m.suppressed}; no value is reported for {label}."
              for m in metrics.values() if m.suppressed]
    return tuple(notes)
