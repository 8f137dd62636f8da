"""Which of the ranked terms a comment-themes metric reports, their trend and their quotes.

A theme is said as a phrase where one is: a single word stays a theme only when no
candidate phrase containing it is stronger, that is scores a higher z or holds at least half
of the word's dissatisfied comments (the word is then mostly said as part of the phrase).  A
term whose comments are all those of a stronger theme, or mostly those of one it shares a
word with ('policy' under 'refund policy'), is the same theme said again and is left out.

Quotes are chosen theme by theme, strongest first, so that no quote, nor a near-duplicate of
one (the same words up to a few), is given twice across the themes of one metric.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

Trend = Literal["new", "growing", "fading", "steady"]

#: A term whose comments are at least this share of a stronger theme's (sharing a word) is
#: the same theme.
COVERED = 0.8
#: A phrase holding at least this share of a word's comments stands for the word.
PHRASE_HOLDS = 0.5
#: Two quotes sharing at least this share of their distinct words say the same thing.
NEAR_DUPLICATE = 0.8
#: Distinct comments tried per theme for a quote (bounds the work on a huge corpus).
QUOTE_CANDIDATES = 200


def select_terms(ranked: Sequence[str], users: Mapping[str, frozenset[int]],
                 z: Mapping[str, float], top: int) -> list[str]:
    """The first ``top`` themes of ``ranked`` (strongest first).

    ``users``: per term, the dissatisfied comments (their positions) using it; ``z``: the
    terms' scores.
    """
    phrases = [t for t in ranked if " " in t]
    kept: list[str] = []
    for term in ranked:
        if len(kept) == top:
            break
        if " " not in term and _has_stronger_phrase(term, phrases, users, z):
            continue
        if any(_covered(term, k, users) for k in kept):
            continue
        kept.append(term)
    return kept


def _has_stronger_phrase(word: str, phrases: Sequence[str],
                         users: Mapping[str, frozenset[int]], z: Mapping[str, float]) -> bool:
    mine = users[word]
    return any(word in phrase.split() and (z[phrase] >= z[word]
                                           or len(users[phrase]) >= PHRASE_HOLDS * len(mine))
               for phrase in phrases)


def _covered(term: str, stronger: str, users: Mapping[str, frozenset[int]]) -> bool:
    mine, theirs = users[term], users[stronger]
    if mine == theirs:
        return True  # 'lost' and 'lost time' in the very same comments
    shares_word = bool(set(term.split()) & set(stronger.split()))
    return shares_word and len(mine & theirs) >= COVERED * len(mine)


def trend(share: float | None, previous_share: float | None, compared: bool) -> Trend | None:
    """How a theme's share of dissatisfied comments moved since last period: ``new`` (not
    used then), ``growing`` (at least doubled), ``fading`` (at least halved) or ``steady``;
    None when last period had no dissatisfied comments to compare with."""
    if not compared or share is None:
        return None
    if not previous_share:
        return "new"
    if share >= 2 * previous_share:
        return "growing"
    if share <= previous_share / 2:
        return "fading"
    return "steady"


def distinct_quotes(candidates: Iterable[Iterable[str]], per_theme: int,
                    words: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """Up to ``per_theme`` quotes per theme, in the themes' order, none repeating (or nearly
    repeating) an earlier one.

    ``candidates``: per theme, its quotes in order of preference (read lazily, at most
    ``QUOTE_CANDIDATES`` each); ``words``: the words a quote is compared by.
    """
    chosen: list[frozenset[str]] = []
    out: list[list[str]] = []
    for theme in candidates:
        picked: list[str] = []
        for tried, quote in enumerate(theme):
            if len(picked) == per_theme or tried == QUOTE_CANDIDATES:
                break
            said = frozenset(words(quote))
            if not said or any(_near_duplicate(said, other) for other in chosen):
                continue
            chosen.append(said)
            picked.append(quote)
        out.append(picked)
    return out


def _near_duplicate(first: frozenset[str], second: frozenset[str]) -> bool:
    return len(first & second) >= NEAR_DUPLICATE * len(first | second)
