"""The queue scorecard in one sentence, for a chat post that cannot hold its table.

A director reading Slack wants where the queues stand and what went wrong: per KPI with a
target, how many segments are off target (the worst named, with their values) and at risk,
and the worst real change (a significant move the bad way) of the first KPI that has one:

``CSAT off target in 2 of 9 queues (Enterprise 70.0%, Billing 71.8%) and at risk in 6;
QA score at risk in 5 of 10 queues, none off target; worst real change: Billing, CSAT
−11.7 pts.``

Values and changes are the cells' own texts from the text authority; the counts are kept
with the sentence (``Scorecard.line_numbers``) so the claim checker can trace them.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen import text
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.scorecard import ScorecardCell, ScorecardRow

#: the off-target segments a line names; more are counted ("and 2 more")
NAMED = 3


def scorecard_line(rows: Sequence[ScorecardRow], results: Sequence[MetricResult],
                   noun: str) -> tuple[str, dict[str, int]]:
    """The sentence for ``rows`` (cells in the order of ``results``) and the counts it
    states; ``noun`` names one segment (``queue``).  Empty when nothing has a target and
    nothing changed for the worse."""
    parts: list[str] = []
    numbers: dict[str, int] = {}
    for index, result in enumerate(results):
        cells = [(row.label, row.cells[index]) for row in rows]
        judged = [(label, cell) for label, cell in cells if cell.status is not None]
        if not judged:
            continue  # no target, or no segment with a value
        off = [(label, cell) for label, cell in judged if cell.status == "off_target"]
        risk = [label for label, cell in judged if cell.status == "at_risk"]
        of = f"of {text.plural(len(judged), noun)}"
        numbers.update({f"{result.metric_id} judged": len(judged),
                        f"{result.metric_id} off target": len(off),
                        f"{result.metric_id} at risk": len(risk)})
        if off:
            part = (f"{result.label} off target in {text.count(len(off))} {of} "
                    f"({_named(off, result, numbers)})")
            if risk:
                part += f" and at risk in {text.count(len(risk))}"
        elif risk:
            part = f"{result.label} at risk in {text.count(len(risk))} {of}, none off target"
        else:
            part = f"{result.label} on target in every {noun}"
        parts.append(part)
    worst = _worst_change(rows, results)
    if worst:
        parts.append(f"worst real change: {worst}")
    return ("; ".join(parts) + "." if parts else ""), numbers


def _named(off: list[tuple[str, ScorecardCell]], result: MetricResult,
           numbers: dict[str, int]) -> str:
    """The worst off-target segments first (furthest from target), each with its value."""
    lower_is_better = result.direction == "lower"
    ranked = sorted(off, key=lambda item: (-(item[1].value or 0.0) if lower_is_better
                                           else (item[1].value or 0.0), item[0]))
    names = [label if cell.value_text in ("", text.MISSING) else f"{label} {cell.value_text}"
             for label, cell in ranked[:NAMED]]
    more = len(ranked) - NAMED
    if more > 0:
        numbers[f"{result.metric_id} off target, not named"] = more
        names.append(f"{text.count(more)} more")
        return ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names)


def _worst_change(rows: Sequence[ScorecardRow], results: Sequence[MetricResult]) -> str:
    """``Billing, CSAT −11.7 pts``: the largest real change the bad way, of the first KPI
    (in the scorecard's order) that has one; empty when none moved the bad way."""
    for index, result in enumerate(results):
        bad = [(row.label, row.cells[index]) for row in rows
               if row.cells[index].change_tone == "bad" and row.cells[index].delta is not None]
        if bad:
            label, cell = min(bad, key=lambda item: (-abs(item[1].delta or 0.0), item[0]))
            return f"{label}, {result.label} {cell.change_text.removesuffix(' *')}"
    return ""
