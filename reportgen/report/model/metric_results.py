"""A metric's computed result: its value, interval, change, breakdown and what was left out,
with the literal types (status, direction, unit, tone) every stage shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Status = Literal["on_target", "at_risk", "off_target"]


Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Scale:
    """The values a score can take (``low``..``high``) and the word for its good end
    (``easier`` on a 1-7 effort scale where 7 is easy; ``better`` by default)."""

    low: float
    high: float
    good: str = "better"


#: ``score`` is a 0-100 score (its changes are points); ``rating`` a mean answer on a
#: survey's rating scale (1-7 effort: its changes are the scale's own steps, never points).
Unit = Literal["percent", "score", "count", "minutes", "hours", "seconds", "number", "ratio",
               "points", "rating"]


Tone = Literal["good", "bad", "neutral", "warning"]


#: the method of an "interval" of a sample whose values were all equal
ALL_EQUAL = "all values equal"


@dataclass(frozen=True)
class Interval:
    """A confidence interval for a value.  ``method == ALL_EQUAL``: every value of the
    sample was the same, so there is no spread to make an interval of (it is not a
    zero-width interval, and outputs say so in words)."""

    low: float
    high: float
    level: float
    method: str


@dataclass(frozen=True)
class Change:
    """The change of a value against a comparison period, with its significance test."""

    previous: float | None
    previous_n: int
    delta: float | None
    test: str | None
    statistic: float | None
    p_value: float | None
    significant: bool
    alpha: float
    against: str = "previous period"


@dataclass(frozen=True)
class PeriodValue:
    """A metric's value in one period of its history (for trends and control charts)."""

    period: str
    label: str
    start: date
    value: float | None
    n: int
    interval: Interval | None = None
    numerator: float | None = None
    denominator: float | None = None
    suppressed: str | None = None


@dataclass(frozen=True)
class BreakdownRow:
    """The metric for one segment of a breakdown (one queue, one channel...)."""

    key: tuple[str, ...]
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    interval: Interval | None = None
    change: Change | None = None
    status: Status | None = None
    suppressed: str | None = None
    #: The segment's value in each period of the metric's ``history`` (None where it is
    #: suppressed or absent); computed only for the breakdowns a scorecard shows.
    history: tuple[float | None, ...] = ()

    @property
    def label(self) -> str:
        return " / ".join(self.key)


@dataclass(frozen=True)
class LeftOut:
    """Values of the report period a metric's calculator left out for one reason, e.g.
    12 ratings outside 1 to 5 (they are not in ``n``; the data-quality note tells them)."""

    reason: str
    noun: str  # one value, as a reader calls it: "rating", "negative duration"
    qualifier: str  # what sets them apart: "outside 1 to 5", "in 'handle_minutes'"
    count: int


@dataclass(frozen=True)
class MetricResult:
    """A metric with its statistical context, for the report period."""

    metric_id: str
    label: str
    calculator: str
    unit: Unit
    direction: Direction
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    interval: Interval | None = None
    change: Change | None = None
    year_over_year: Change | None = None
    target: float | None = None
    status: Status | None = None
    suppressed: str | None = None
    breakdowns: Mapping[str, tuple[BreakdownRow, ...]] = field(default_factory=dict)
    history: tuple[PeriodValue, ...] = ()
    formula: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    #: the values of the report period the calculator left out, per reason (none: ())
    left_out: tuple[LeftOut, ...] = ()
    #: the range of a score and the word for its good end (None: a rate, count or duration)
    scale: Scale | None = None
    #: the fewest values a segment needs to be shown, and the grain of the report period
    #: (``month``): together they say which grain would give suppressed segments enough
    min_n: int | None = None
    grain: str | None = None
    #: what one of ``n`` is, as a reader calls it: ``response``, ``ticket``, ``value``
    n_noun: str = "value"

    # Convenience views on the change, under the names analysts use for them.
    @property
    def previous(self) -> float | None:
        return self.change.previous if self.change else None

    @property
    def delta(self) -> float | None:
        return self.change.delta if self.change else None

    @property
    def p_value(self) -> float | None:
        return self.change.p_value if self.change else None

    @property
    def significant(self) -> bool:
        return bool(self.change and self.change.significant)

    @property
    def has_value(self) -> bool:
        return self.value is not None and self.suppressed is None
