"""The scorecard's one-line summary for chat posts, from hand-built breakdown rows: who is off
target (worst first), at risk, on target, the worst real change, and nothing dangling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reportgen.definition.scorecard_specs import ScorecardSpec
from reportgen.report.model.metric_results import BreakdownRow, Change, MetricResult
from reportgen.report.model.report_model import Theme
from reportgen.report.scorecard import make_scorecard

MINUS = "\N{MINUS SIGN}"


def _change(delta: float, significant: bool) -> Change:
    return Change(previous=0.8, previous_n=200, delta=delta, test="two-proportion z-test",
                  statistic=None, p_value=0.01 if significant else 0.4,
                  significant=significant, alpha=0.05)


Row = tuple[str, float | None, str | None, Change | None]


def _metric(metric_id: str, label: str, rows: Sequence[Row],
            *, target: float | None, direction: str = "higher",
            unit: str = "percent") -> MetricResult:
    # each row's previous value is its value less its change, as a real breakdown's is
    breakdown = tuple(BreakdownRow(key=(queue,), value=value, n=200, status=status,  # type: ignore[arg-type]
                                   change=change if change is None or value is None
                                   else replace(change, previous=value - (change.delta or 0)),
                                   suppressed=None if value is not None
                                   else "n = 12 is below the minimum of 30")
                      for queue, value, status, change in rows)
    return MetricResult(metric_id=metric_id, label=label, calculator="csat", unit=unit,  # type: ignore[arg-type]
                        direction=direction, value=0.8, n=1400, target=target,  # type: ignore[arg-type]
                        breakdowns={"queue": breakdown})


def _line(*metrics: MetricResult) -> str:
    spec = ScorecardSpec(by="queue", metrics=[m.metric_id for m in metrics])
    card = make_scorecard(spec, {m.metric_id: m for m in metrics}, Theme(), "August 2026",
                          "month")
    return card.line


def test_off_target_segments_are_named_worst_first_and_the_rest_counted() -> None:
    values = {"A": 0.61, "B": 0.55, "C": 0.70, "D": 0.64, "E": 0.52}
    rows: list[Row] = [(q, v, "off_target", None) for q, v in values.items()]
    rows += [("F", 0.83, "at_risk", None), ("G", 0.90, "on_target", None),
             ("H", None, None, None)]  # withheld: not judged
    line = _line(_metric("csat", "CSAT", rows, target=0.85))
    worst = sorted(values, key=values.__getitem__)[:3]
    named = ", ".join(f"{q} {values[q] * 100:.1f}%" for q in worst)
    assert line == (f"CSAT off target in 5 of 7 queues ({named} and 2 more) "
                    "and at risk in 1.")


def test_at_risk_only_on_target_everywhere_and_no_target() -> None:
    risky = _metric("qa", "QA score", [("A", 0.80, "at_risk", None),
                                       ("B", 0.90, "on_target", None)], target=0.82)
    fine = _metric("fcr", "First contact resolution",
                   [("A", 0.90, "on_target", None), ("B", 0.95, "on_target", None)],
                   target=0.85)
    untargeted = _metric("tickets", "Tickets", [("A", 400.0, None, None),
                                                ("B", 300.0, None, None)],
                         target=None, unit="count")
    assert _line(risky, fine, untargeted) == ("QA score at risk in 1 of 2 queues, none off "
                                              "target; First contact resolution on target in "
                                              "every queue.")
    # nothing to say: no target and no real change the bad way
    assert _line(untargeted) == ""


def test_the_worst_real_change_follows_the_metric_direction() -> None:
    # lower is better: a rise is the bad way; the largest real rise is the worst change,
    # and the worst off-target segment is the highest
    defects = _metric("defects", "Defect rate", [
        ("A", 0.09, "off_target", _change(0.030, True)),
        ("B", 0.12, "off_target", _change(0.045, False)),  # larger, but not a real change
        ("C", 0.03, "on_target", _change(-0.050, True)),  # a real fall: the good way
        ("D", 0.10, "off_target", _change(0.020, True))],
        target=0.05, direction="lower")
    line = _line(defects)
    assert line.startswith("Defect rate off target in 3 of 4 queues (B 12.0%, D 10.0%, A 9.0%)")
    assert line.endswith("; worst real change: A, Defect rate +3.0 pts.")
    assert "()" not in line and " ," not in line and "*" not in line
    assert MINUS not in line
