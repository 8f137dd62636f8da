"""Plain-English formatting of the numbers inside finding sentences.

A finding is read by a director, not an analyst: rates read ``81.2%``, a change of a rate
or a 0-100 score reads ``4.1 points``, a p-value reads ``p = 0.03`` or ``p < 0.001``, and
counts carry thousands separators.  Every sentence in the package goes through these
helpers so the same number always reads the same way.

Rates are fractions (0-1) when the metric's unit is ``percent``; ``score`` is 0-100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from reportgen.model import Direction, Tone
from reportgen.render.format import plural

#: A finding's direction: whether the move is good or bad for the metric, or no claim.
Verdict = Literal["improved", "declined", "none"]

#: Words that state a movement or a judgement of one.  A sentence about a change that is not
#: significant, or about a withheld value, must contain none of them (tests read this list).
CHANGE_WORDS: tuple[str, ...] = (
    "improved", "improve", "declined", "decline", "rose", "risen", "fell", "fallen",
    "increased", "increase", "decreased", "decrease", "grew", "grown", "dropped", "drop",
    "up", "down", "better", "worse", "higher", "lower", "gained", "lost", "worsened",
)

_UNIT_WORDS = {"minutes": "minutes", "hours": "hours", "seconds": "seconds"}


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def value_text(value: float | None, unit: str) -> str:
    """A metric value: ``81.2%`` (percent), ``84.5`` (score), ``1,234`` (count)."""
    if _is_missing(value):
        return "no value"
    assert value is not None
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit in _UNIT_WORDS:
        decimals = 0 if unit == "seconds" else 1
        return f"{value:,.{decimals}f} {_UNIT_WORDS[unit]}"
    if unit == "number":
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return f"{value:,.1f}"  # score and anything else on a 0-100-like scale


def delta_text(delta: float, unit: str) -> str:
    """The size of a difference, unsigned: ``4.1 points`` for rates and scores."""
    size = abs(delta)
    if unit == "percent":
        return f"{size * 100:.1f} points"
    if unit == "score":
        return f"{size:.1f} points"
    return value_text(size, unit)


def signed_delta_text(delta: float, unit: str) -> str:
    """A difference with its sign, for contributions that add up: ``−2.9 points``."""
    rounded = delta * 100 if unit == "percent" else delta
    sign = "−" if rounded < 0 and round(abs(rounded), 1) > 0 else "+"
    return sign + delta_text(delta, unit)


def p_text(p_value: float, alpha: float | None = None) -> str:
    """``p < 0.001``, ``p = 0.004`` or ``p = 0.03``.

    Two decimals read best, but a p-value that would round onto the significance level
    (0.0496 -> "0.05") gets a third decimal so the text never contradicts the verdict.
    """
    if p_value < 0.001:
        return "p < 0.001"
    if p_value < 0.01:
        return f"p = {p_value:.3f}"
    two = round(p_value, 2)
    if alpha is not None and math.isclose(two, alpha) and not math.isclose(p_value, alpha):
        return f"p = {p_value:.3f}"
    return f"p = {two:.2f}"


def n_text(n: int | float) -> str:
    """A sample size: ``n = 1,234``."""
    return f"n = {n:,.0f}"


def share_text(share: float) -> str:
    """A share of a whole with no decimals (``40%``); below 1% reads ``under 1%``."""
    if 0 < share < 0.005:
        return "under 1%"
    return f"{share * 100:.0f}%"


def join_names(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    items = list(names)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural_noun(word: str) -> str:
    """``queue`` -> ``queues``, ``category`` -> ``categories``."""
    return plural(2, word).split(" ", 1)[1]


def breakdown_noun(breakdown: str) -> str:
    """A breakdown key as a noun: ``queue``, ``queue / channel``, ``contact reason``."""
    return breakdown.replace(",", " / ").replace("_", " ")


def movement(delta: float) -> str:
    """The plain verb for a value's move: ``rose`` or ``fell``."""
    return "rose" if delta > 0 else "fell"


def goodness(delta: float, direction: Direction) -> Verdict:
    """``improved`` when the move is the good way for the metric, else ``declined``."""
    good = delta > 0 if direction == "higher" else delta < 0
    return "improved" if good else "declined"


def tone_of(verdict: Verdict) -> Tone:
    """The tone of a verdict: improved is good, declined is bad, anything else neutral."""
    return "good" if verdict == "improved" else "bad" if verdict == "declined" else "neutral"


def scope_text(breakdown: str, key: Sequence[str]) -> str:
    """A segment's scope: ``queue = Billing`` or ``queue = Billing, channel = Email``."""
    columns = breakdown.split(",")
    if len(columns) != len(key):  # a breakdown key the engine joined differently
        return f"{breakdown} = {' / '.join(key)}"
    return ", ".join(f"{c} = {v}" for c, v in zip(columns, key, strict=True))


def scope_phrase(scope: dict[str, object] | None) -> str:
    """An intervention scope in a sentence: ``for queue Onboarding`` (empty when unscoped)."""
    if not scope:
        return ""
    parts = []
    for column, wanted in scope.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        parts.append(f"{column} {join_names([str(v) for v in values])}")
    return " for " + " and ".join(parts)
