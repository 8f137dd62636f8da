"""Plain-English wording of findings; every number in them is written by reportgen.text.

A finding is read by a director, not an analyst: rates read ``81.2%``, a change of a rate
or a 0-100 score reads ``4.1 points``, a p-value reads ``p = 0.031`` or ``p < 0.001``, and
counts carry the locale's grouping.  The helpers here keep the names the insight modules
use; the rules themselves live in :mod:`reportgen.text`, so a tile and the sentence beside
it can never disagree.

Rates are fractions (0-1) when the metric's unit is ``percent``; ``score`` is 0-100.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from reportgen import text
from reportgen.model import Direction, Tone
from reportgen.text import join_names, plural, plural_noun  # noqa: F401  (re-exported)

#: A finding's direction: whether the move is good or bad for the metric, or no claim.
Verdict = Literal["improved", "declined", "none"]

#: Words that state a movement or a judgement of one.  A sentence about a change that is not
#: significant, or about a withheld value, must contain none of them (tests read this list).
CHANGE_WORDS: tuple[str, ...] = (
    "improved", "improve", "declined", "decline", "rose", "risen", "fell", "fallen",
    "increased", "increase", "decreased", "decrease", "grew", "grown", "dropped", "drop",
    "up", "down", "better", "worse", "higher", "lower", "gained", "lost", "worsened",
)


def value_text(value: float | None, unit: str) -> str:
    """A metric value: ``81.2%`` (percent), ``84.5`` (score), ``4.2 minutes`` (duration)."""
    return text.value_words(value, unit)


def delta_text(delta: float, unit: str) -> str:
    """The size of a difference, unsigned: ``4.1 points`` for rates and scores."""
    return text.change_words(delta, unit)


def signed_delta_text(delta: float, unit: str) -> str:
    """A difference with its sign, for contributions that add up: ``−2.9 points``."""
    return text.signed_change_words(delta, unit)


def p_text(p_value: float, alpha: float | None = None) -> str:
    """``p < 0.001``, ``p = 0.0042``, ``p = 0.031`` (two significant digits)."""
    return text.p_value(p_value, alpha)


def n_text(n: int | float) -> str:
    """A sample size: ``n = 1,234``."""
    return text.n_text(n)


def share_text(share: float) -> str:
    """A share of a whole with no decimals (``40%``); below 1% reads ``under 1%``."""
    return text.share(share)


def breakdown_noun(breakdown: str) -> str:
    """A breakdown key as a noun: ``queue``, ``queue / channel``, ``contact reason``."""
    return text.humanise(breakdown)


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
