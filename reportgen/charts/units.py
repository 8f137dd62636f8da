"""How a metric's unit reads on a chart: value text, tick labels, axis titles."""

from __future__ import annotations

import re
from collections.abc import Sequence

from matplotlib.ticker import Formatter

from reportgen import text
from reportgen.report.model.metric_results import MetricResult, Unit

# The chart modules import these from here: plural words and the one status palette.
from reportgen.text import plural, status_colour  # noqa: F401

_UNIT_AXIS: dict[str, str] = {
    "minutes": "minutes",
    "hours": "hours",
    "seconds": "seconds",
    "score": "0–100",
    "points": "points",
}
# PowerPoint number formats matching the tick labels drawn here.
_NUMBER_FORMAT: dict[str, str] = {
    "percent": "0%",
    "score": "0.0",
    "count": "#,##0",
    "minutes": "0.0",
    "hours": "0.0",
    "seconds": "0",
    "ratio": "0.00",
    "rating": "0.0",
    "number": "General",
}


def format_value(value: float | None, unit: Unit | str, decimals: int | None = None) -> str:
    """A value as a reader sees it (reportgen.text rules): ``0.812`` in percent is ``81.2%``."""
    return text.value(value, unit, decimals=decimals)


def format_delta(value: float, unit: Unit | str) -> str:
    """A signed difference: points for rates and scores, the unit otherwise."""
    return text.change(value, unit)


def format_count(n: int | float | None) -> str:
    """A sample size with the locale's grouping."""
    return text.count(n)


def axis_title(metric: MetricResult) -> str:
    """The value-axis title: the metric label, with the unit when ticks do not show it."""
    unit = _UNIT_AXIS.get(metric.unit)
    return f"{metric.label} ({unit})" if unit else metric.label


def number_format(unit: Unit | str) -> str:
    """The Excel/PowerPoint number format for a unit (native charts)."""
    return _NUMBER_FORMAT.get(unit, "General")


def signed_number_format(unit: Unit | str) -> str:
    """The number format of a signed difference in ``unit``: "+6.0", "−1.3", "0.0"."""
    plain = number_format(unit)
    if plain == "General":
        plain = "0.0"
    return f'+{plain};"{text.MINUS}"{plain};{plain}'


class UnitFormatter(Formatter):
    """Tick labels in the metric's unit, with no more decimals than the tick step needs."""

    def __init__(self, unit: Unit | str, signed: bool = False):
        self.unit = unit
        self.signed = signed

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        scale = text.scale(self.unit)
        # The fewest decimals that show every tick exactly (82.5% must not read "82%").
        decimals = next(
            (d for d in range(3) if all(abs(round(v * scale, d) - v * scale) < 1e-6
                                        for v in values)),
            3,
        )
        return [self._one(v, decimals) for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self._one(x, 1 if self.unit in ("percent", "score", "points", "rating") else 0)

    def _one(self, x: float, decimals: int) -> str:
        if abs(x) < 1e-12:
            x = 0.0  # avoid "-0%"
        shown = abs(x) if self.signed else x
        if self.unit == "percent" and not self.signed:
            label = text.percent(shown, decimals)
        else:  # signed percent ticks are points: no percent sign
            label = text.decimal(shown * text.scale(self.unit), decimals)
        if self.signed and x != 0:
            label = ("+" if x > 0 else text.MINUS) + label
        return label


_MONTH = re.compile(r"^\d{4}-\d{2}$")
_WEEK = re.compile(r"^\d{4}-W\d{2}$", re.IGNORECASE)
_QUARTER = re.compile(r"^\d{4}-Q\d$", re.IGNORECASE)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def grain_word(period_keys: Sequence[str]) -> str:
    """'month', 'week', 'quarter' or 'day' from period keys such as ``2026-10``."""
    for pattern, word in ((_MONTH, "month"), (_WEEK, "week"), (_QUARTER, "quarter"), (_DAY, "day")):
        if period_keys and all(pattern.match(key) for key in period_keys):
            return word
    return "period"


def target_phrase(value: float | None, target: float | None, unit: Unit | str) -> str:
    """``below the 85.0% target`` (or above / at), empty when either value is missing."""
    if value is None or target is None:
        return ""
    where = "below" if value < target else "above" if value > target else "at"
    return f"{where} the {text.value(target, unit)} target"
