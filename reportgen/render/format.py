"""Display strings for numbers: the one place a value becomes text.

The report model stores these strings, so the PDF, the deck and the email show exactly the
same figures.
"""

from __future__ import annotations

import math

from reportgen.model import STATUS_LABELS, Change, Kpi, MetricResult, Tone, Unit

MINUS = "\u2212"


def format_value(value: float | None, unit: Unit) -> str:
    """``0.8123, percent`` -> ``81.2%``; ``1234, count`` -> ``1,234``; ``None`` -> ``—``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "score":
        return f"{value:.1f}"
    if unit in ("minutes", "hours", "seconds"):
        short = {"minutes": "min", "hours": "h", "seconds": "s"}[unit]
        return f"{value:,.1f} {short}"
    if unit == "ratio":
        return f"{value:.3f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def _signed(number: float, text: str) -> str:
    if number > 0:
        return f"+{text}"
    if number < 0:
        return f"{MINUS}{text}"
    return f"±{text}"


def format_delta(delta: float | None, unit: Unit, previous: float | None = None) -> str:
    """A change in the metric's units: rates in points, counts with the relative change."""
    if delta is None:
        return "—"
    size = abs(delta)
    if unit == "percent":
        return _signed(delta, f"{size * 100:.1f} pts")
    if unit == "count":
        relative = f" ({_signed(delta, f'{size / previous * 100:.1f}%')})" if previous else ""
        return _signed(delta, f"{size:,.0f}") + relative
    if unit in ("minutes", "hours", "seconds"):
        return _signed(delta, format_value(size, unit))
    return _signed(delta, f"{size:.1f}" if unit == "score" else f"{size:,.2f}")


def format_interval(result: MetricResult) -> str:
    if result.interval is None:
        return ""
    low = format_value(result.interval.low, result.unit)
    high = format_value(result.interval.high, result.unit)
    level = f"{result.interval.level * 100:.0f}%"
    if result.unit == "percent":
        return f"{level} CI {low.rstrip('%')}–{high}"
    return f"{level} CI {low}–{high}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 queue``, ``3 queues``, ``2 categories``."""
    if count == 1:
        return f"{count:,} {word}"
    if many is None:
        consonant_y = word.endswith("y") and word[-2:-1] not in "aeiou"
        many = word[:-1] + "ies" if consonant_y else word + "s"
    return f"{count:,} {many}"


def format_p(p_value: float | None) -> str:
    if p_value is None:
        return ""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def change_tone(change: Change | None, direction: str) -> Tone:
    """Good or bad only for a significant move; anything else is neutral."""
    if change is None or change.delta is None or not change.significant or change.delta == 0:
        return "neutral"
    improved = (change.delta > 0) == (direction == "higher")
    return "good" if improved else "bad"


def significance_text(change: Change | None) -> str:
    if change is None or change.delta is None:
        return "no comparison"
    if change.test is None:
        return "not tested"
    verdict = "significant" if change.significant else "not significant"
    return f"{verdict} ({format_p(change.p_value)})"


def make_kpi(result: MetricResult) -> Kpi:
    """The tile/scorecard view of a metric."""
    change = result.change
    delta = change.delta if change else None
    arrow = "" if delta is None else "up" if delta > 0 else "down" if delta < 0 else "flat"
    if result.suppressed:
        value_text = "—"
        n_text = result.suppressed
    else:
        value_text = format_value(result.value, result.unit)
        n_text = f"n = {result.n:,}"
    target = f"Target {format_value(result.target, result.unit)}" if result.target is not None else ""
    return Kpi(
        metric=result,
        value_text=value_text,
        delta_text=f"{format_delta(delta, result.unit, change.previous if change else None)} vs "
                   f"{change.against}" if delta is not None and change else "no comparison",
        interval_text=format_interval(result),
        n_text=n_text,
        target_text=target,
        status_text=STATUS_LABELS.get(result.status or "", ""),
        delta_tone=change_tone(change, result.direction),
        arrow=arrow,  # type: ignore[arg-type]
        significance_text=significance_text(change),
    )
