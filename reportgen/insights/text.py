"""Plain-English wording of findings; every number in them is written by reportgen.text.

A finding is read by a director, not an analyst: rates read ``81.2%``, a change of a rate
or a 0-100 score reads ``4.1 points``, a p-value reads ``p = 0.031`` or ``p < 0.001``, and
counts carry the locale's grouping.  The helpers here keep the names the insight modules
use; the rules themselves live in :mod:`reportgen.text`, so a tile and the sentence beside
it can never disagree.

Rates are fractions (0-1) when the metric's unit is ``percent``; ``score`` is 0-100.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from reportgen import text
from reportgen.report.model.metric_results import Direction, Tone
from reportgen.text import join_names, plural, plural_noun, terms  # noqa: F401  (re-exported)

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


def difference_text(after: float, before: float, unit: str) -> str:
    """The size of the difference between two values the sentence also shows, computed
    from them as displayed (58.1% from 55.1% is 3.0 points, whatever the unrounded gap)."""
    return text.change_words(text.shown_difference(after, before, unit), unit)


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
    """A breakdown key as a noun: ``queue``, ``queue / channel``, ``contact reason``.

    An identifier column names what it identifies (``agent_id`` -> ``agent``): a director
    counts agents, not agent ids.
    """
    return text.humanise(",".join(_without_id(c) for c in breakdown.split(",")))


def _without_id(column: str) -> str:
    return column.removesuffix("_id") if column.endswith("_id") and len(column) > 3 else column


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


#: Columns whose values are names of people or things (``AU07``) rather than categories.
_IDENTIFIER_COLUMNS = frozenset({"auditor", "rater", "agent", "reviewer", "calibrator"})


def scope_phrase(scope: dict[str, object] | None) -> str:
    """An intervention scope as people say it: `` for the Onboarding queue``, `` for the
    Billing and Payments queues``, `` for agent A072`` (empty when unscoped)."""
    if not scope:
        return ""
    parts = []
    for column, wanted in scope.items():
        values = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
        noun = breakdown_noun(column)
        if column.endswith("_id") or noun in _IDENTIFIER_COLUMNS:
            parts.append(f"{noun} {join_names(values)}")
        else:
            nouns = noun if len(values) == 1 else text.plural_noun(noun)
            parts.append(f"the {join_names([text.value_label(v) for v in values])} {nouns}")
    return " for " + " and ".join(parts)


def _segment_tag(column: str, value: str, labels: Mapping[str, str]) -> str:
    noun = breakdown_noun(column)
    if column.endswith("_id") or noun in _IDENTIFIER_COLUMNS:
        return f"{noun.capitalize()} {value}"
    return f"{labels.get(value, text.value_label(value))} {noun}"


def scope_tag(scope: str, labels: Mapping[str, str] | None = None) -> str:
    """A finding's scope as people say it: ``queue = Billing`` -> ``Billing queue``.

    ``by queue,category`` reads ``By queue and category``; the whole metric (``overall``)
    has no tag, and neither has a scope that names no segment (``skipped``, ``rubric
    items``: the sentence says what it is about).  ``labels`` maps data values to their
    display labels.
    """
    labels = labels or {}
    if scope in ("", "overall"):
        return ""
    if scope.startswith("by "):
        nouns = [breakdown_noun(c) for c in scope[3:].split(",")]
        return "By " + join_names(nouns)
    parts = []
    for part in scope.split(", "):
        column, sep, value = part.partition(" = ")
        if not sep:
            return ""
        parts.append(_segment_tag(column.strip(), value.strip(), labels))
    return " · ".join(parts)


#: A parenthesis holding a test result: ``(p = 0.024)``, ``(n = 19; p = 0.017, allowing ...)``,
#: or a score a ranking rests on (``(log-odds z = 3.2 against ...)``).
_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)")
_STATISTIC = re.compile(r"(?<![\w])[pz] [=<] ")  # a p-value or a z statistic
_FAMILY = re.compile(r"\s*\((?:[a-z ]+ / )+[a-z ]+\)")


def split_statistics(sentence: str) -> tuple[str, str]:
    """The sentence without its test results, and the test results (for a footnote).

    ``CSAT fell 3.7 points ... (p = 0.024).`` -> (``CSAT fell 3.7 points ....``,
    ``p = 0.024``).  Other parts of a parenthesis (a sample size) stay in the sentence.
    """
    body, details = _split(sentence)
    return body.replace(_TESTED, ""), details


#: Where a test result was taken out of a finding (see ``_split``).
_TESTED = "\x00"


def _split(sentence: str) -> tuple[str, str]:
    """``split_statistics``, with ``_TESTED`` marking where each test result was."""
    details: list[str] = []

    def strip(match: re.Match[str]) -> str:
        parts = [p.strip() for p in match.group(1).split(";")]
        tested = [p for p in parts if _STATISTIC.search(p)]
        if not tested:
            return match.group(0)
        details.extend(tested)
        kept = [p for p in parts if p not in tested]
        return (f" ({'; '.join(kept)})" if kept else "") + _TESTED

    body = _PARENTHESIS.sub(strip, sentence)
    # "and September 2026 on its own still differs from before" loses nothing but its p;
    # the breakdown spelled out after a segment ("(queue / category)") is in the tag.
    body = _FAMILY.sub("", body)
    return body, "; ".join(dict.fromkeys(details))  # a result said twice is noted once


def _with_verdict(body: str, verdict: str) -> str:
    """``verdict`` closing the sentence that carried the (first) test result: in a finding of
    several sentences it belongs to the claim that was tested, not to the last sentence."""
    at = body.find(_TESTED)
    end = body.find(". ", at)
    if end < 0:
        end = len(body) - 1 if body.endswith(".") else -1
    if end < 0:
        return body.replace(_TESTED, "")
    return (body[:end] + f": {verdict}" + body[end:]).replace(_TESTED, "")


# What a tested claim means, in the words a director uses (the text authority's terms).
REAL_CHANGE = terms.REAL_CHANGE
NORMAL_VARIATION = terms.NORMAL_VARIATION
#: A tested difference between two groups at one time is not a change: a finding says so
#: with ``numbers["claim"] = "difference"``.
REAL_DIFFERENCE = terms.REAL_DIFFERENCE
#: A tested absence of effect: ``numbers["claim"] = "equivalence"``.
REAL_EQUIVALENCE = terms.REAL_EQUIVALENCE


def plain_sentence(sentence: str, significant: bool | None,
                   labels: Mapping[str, str] | None = None, *,
                   real: str = REAL_CHANGE) -> tuple[str, str]:
    """A finding for a director: no test results (returned apart), code values as labels.

    A sentence that carried a test ends by saying what it means (``real``: ``a real change,
    not noise``, or ``within normal variation``).
    """
    body, detail = _split(sentence)
    for raw, label in (labels or {}).items():
        body = re.sub(rf"(?<![\w/]){re.escape(raw)}(?![\w/])", label, body)
    if detail and significant is not None and body.endswith("."):
        return _with_verdict(body, real if significant else NORMAL_VARIATION), detail
    return body.replace(_TESTED, ""), detail
