"""The words the body of a report uses for statistical ideas.

The body (everything before the appendix) speaks to a director: it says "95% intervals",
"auditor agreement", "average gap from the calibrator" and "a real change since August
2026".  The names of the statistics behind them (Wilson, Student t, Krippendorff's alpha,
Gwet's AC1, mean absolute deviation, α) are written in the methodology only.

"A real change" is said of a change over time only; a difference between groups at one
time (an auditor against the calibrator, a category against the others) "is more than
chance would explain".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reportgen.report.model.metric_results import Direction, Scale
from reportgen.text.number import RANGE, count, percent, plain
from reportgen.text.words import plural_noun

#: What a tested change over time means, in the words a director uses.
REAL_CHANGE = "a real change, not noise"
NORMAL_VARIATION = "within normal variation"
#: A tested difference between two groups at one time (skipped and audited tickets, a
#: sample and its population, a reviewer and the calibrator): not a change.
REAL_DIFFERENCE = "more than chance would explain"
#: A tested absence of effect (every effect within a band that would not matter).
REAL_EQUIVALENCE = "shown by the data, not just a lack of evidence"

#: Plain names of the agreement coefficients (body text); the appendix names the statistic.
AGREEMENT = "agreement"
AUDITOR_AGREEMENT = "auditor agreement"
#: The mean absolute deviation of an auditor's scores from the calibrator's, in the body.
AVERAGE_GAP = "average gap"
AVERAGE_GAP_LONG = "average gap from the calibrator"


def whiskers(levels: Iterable[float]) -> str:
    """A chart's caption for its error bars: ``Whiskers: 95% intervals.`` (one level), or
    ``Whiskers: intervals.`` when the bars mix levels; the method is the appendix's."""
    distinct = sorted(set(levels))
    if len(distinct) == 1:
        return f"Whiskers: {percent(distinct[0], 0)} intervals."
    return "Whiskers: intervals."


def change_mark_note(against: str | None) -> str:
    """The note under a table whose changes carry ``*``: ``* a real change since August
    2026.`` (the test and its level are in the appendix)."""
    return f"* a real change since {against}" if against else "* a real change"


def scale_text(scale: Scale | None, direction: Direction) -> str:
    """Where a score lies and which way is good, for its tile: ``1–7 scale, higher is
    easier``; ``−100 to 100 scale, higher is better``; empty without a scale."""
    if scale is None:
        return ""
    low, high = plain(scale.low), plain(scale.high)
    span = f"{low} to {high}" if scale.low < 0 else f"{low}{RANGE}{high}"
    return f"{span} scale, {direction} is {scale.good}"


#: For a report grain: the next coarser grain's adjective and how many periods it spans.
COARSER: dict[str, tuple[str, int]] = {
    "day": ("weekly", 7), "week": ("monthly", 4), "month": ("quarterly", 3),
    "quarter": ("yearly", 4),
}


def all_suppressed(noun: str, values: Sequence[int], min_n: int | None,
                   grain: str | None, n_noun: str = "value") -> str:
    """Said once when every segment of a breakdown has too few values to show: ``Each
    ticket type has fewer than 30 responses this month; a quarterly report would have
    enough.`` The coarser grain is suggested only when the largest segment, at this
    period's pace, would reach the minimum over it."""
    this = f"this {grain}" if grain else "in this period"
    many = plural_noun(n_noun)
    if min_n is None:
        return f"Each {noun} has too few {many} {this} to show"
    head = f"Each {noun} has fewer than {count(min_n)} {many} {this}"
    most = max(values, default=0)
    coarser = COARSER.get(grain or "")
    if coarser and most * coarser[1] >= min_n:
        return f"{head}; a {coarser[0]} report would have enough"
    return f"{head}; a longer period would be needed"
