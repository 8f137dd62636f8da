"""Slide titles that state a message: a finding's sentence, cut back to a headline.

A title is read in a second, so it keeps a finding's claim (``CSAT fell 2.6 points to
80.0% in Q3 2026``) and drops its qualifications: the sentences after the first, asides in
brackets, and then clause after clause from the end.  Every cut falls on a clause or word
boundary, never inside a word, and no headline ends in a dangling connective, so each
version reads as a whole phrase; the deck takes the longest that fits its title box.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportgen.text import number
from reportgen.text.words import join_names

#: Where a first sentence ends: a full stop before a space and a capital (not 2.6).
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z\u00C0-\u024F])")
_ASIDE = re.compile(r"\s*\([^()]*\)")
#: Clause boundaries a headline may end before, longest headline first.
_BOUNDARY = re.compile(r"(?:[,;:]\s|\s[\u2013\u2014]\s)")
#: A headline does not end on these: "…rose 2.8 points to" reads as cut.
_DANGLING = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or",
                       "the", "to", "with", "against", "but", "than", "is", "are"})
MIN_WORDS = 3
#: Verbs a headline without a number may state its message with ("SLA met is at risk").
_VERBS = frozenset({"is", "are", "has", "have", "was", "were", "fell", "rose", "sit", "sits",
                    "held", "drifted", "leads", "lead", "drive", "drives"})


def headlines(sentence: str, verdicts: Sequence[str] = (), period: str = "") -> tuple[str, ...]:
    """Headlines of a finding's ``sentence``, longest first, each a whole phrase.

    The first is the first sentence without its full stop and without the test's
    ``verdicts`` (``: a real change, not noise``: a title states the change, the slide's
    findings say it was tested); then without bracketed asides; then each of those cut
    before its last clause boundary, and so on down to the shortest of at least
    ``MIN_WORDS`` words that still says something (a number or a verb).  Each also comes
    without `` in <period>`` when ``period`` is given: the deck's footer names it.
    """
    first = _SENTENCE_END.split(" ".join(sentence.split()), maxsplit=1)[0].rstrip(" .")
    for verdict in verdicts:
        first = first.replace(f": {verdict}", "").replace(f", {verdict}", "")
    if not first:
        return ()
    found: list[str] = []
    for start in dict.fromkeys((first, _ASIDE.sub("", first).strip())):
        found += _clauses(start)
    if period:
        found += [h.replace(f" in {period}", "") for h in found]
    unique = [h for h in dict.fromkeys(found) if _reads_whole(h)]
    return tuple(sorted(unique, key=len, reverse=True))


def _clauses(text: str) -> list[str]:
    """``text`` and its prefixes ending before each clause boundary."""
    out = [text]
    for match in reversed(list(_BOUNDARY.finditer(text))):
        out.append(text[: match.start()].rstrip())
    return out


def _reads_whole(headline: str) -> bool:
    words = headline.split()
    says = any(c.isdigit() for c in headline) or any(w.lower() in _VERBS for w in words)
    return (len(words) >= MIN_WORDS and says and not headline.endswith(")")
            and words[-1].lower().strip(",;:") not in _DANGLING
            and headline.count("(") == headline.count(")"))


def held_headlines(label: str, value: float, previous: float, against: str, unit: str,
                   target: float | None = None) -> tuple[str, ...]:
    """Titles of a chart over time whose metric moved within normal variation, longest
    first: ``QA score held at 81.4 against 81.1 in Q2 2026, below the 82.0 target``."""
    held = (f"{label} held at {number.value_words(value, unit)} against "
            f"{number.value_words(previous, unit)} in {against}")
    if target is None or value == target:
        return (held,)
    side = "above" if value > target else "below"
    return (f"{held}, {side} the {number.value_words(target, unit)} target", held)


def leader_headlines(label: str, segment: str, value: float, unit: str,
                     total: float | None = None, decimals: int | None = None,
                     ) -> tuple[str, ...]:
    """Titles of a breakdown's chart that no finding is about: the segment with the largest
    value, longest first (``Harassment has the highest appeal overturn rate: 24%``; a
    count: ``Chat has the most tickets created: 5,304 of 14,004``).

    ``decimals``: the places of the bar's own label, so the title and the bar show one
    number (24% on both, not 24.5% above a bar labelled 24%).
    """
    shown = number.value_words(value, unit) if decimals is None \
        else number.value(value, unit, decimals=decimals)
    noun = as_noun(label)
    if unit != "count":
        return (f"{segment} has the highest {noun}: {shown}",)
    most = f"{segment} has the most {noun}: {shown}"
    if total is None:
        return (most,)
    return (f"{most} of {number.value_words(total, unit)}", most)


def with_cause(found: Sequence[str], cause: str) -> tuple[str, ...]:
    """``found`` (a change's titles, longest first) each followed by its ``cause``, those
    first, then ``found`` itself for a title box too narrow for any of them."""
    caused = [f"{h}, {cause}" for h in found if not h.endswith(")")]
    return tuple(dict.fromkeys([*sorted(caused, key=len, reverse=True), *found]))


def within_cause(segment: str, noun: str, share: float) -> str:
    """Where a change happened, as a title's clause: ``most of it in the Chat channel``
    when one segment carries more than half of it, else ``led by the Chat channel``."""
    return f"{'most of it in' if share > 0.5 else 'led by'} the {segment} {noun}"


def mix_cause(noun: str) -> str:
    """A change the shift of volume between segments carries: ``driven by the mix of
    channels``."""
    return f"driven by the mix of {noun}"


def mix_headlines(label: str, best: str, best_share: float, worst: str,
                  worst_share: float) -> tuple[str, ...]:
    """Titles of a distribution chart no finding is about: the shares of its best and worst
    categories in the period, longest first (``58.3% of CSAT responses rated 5, 9.5%
    rated 1``)."""
    def said(category: str) -> str:
        return f"rated {category}" if category.isdigit() else f"were {category}"
    top = f"{number.percent(best_share, 1)} of {label} responses {said(best)}"
    return (f"{top}, {number.percent(worst_share, 1)} {said(worst)}", top)


def target_headlines(nouns: str, segments: int, target: float, unit: str, side: str,
                     off: Sequence[tuple[str, float]], at_risk: Sequence[tuple[str, float]] = (),
                     decimals: int | None = None, label: str = "") -> tuple[str, ...]:
    """Titles of a breakdown's chart with a target that no finding is about, longest first:
    how many of its ``segments`` (``nouns``: ``queues``) are ``off`` the target, as the
    chart highlights them, naming them when few (``2 of 4 channels are off the 85.0%
    target: Social (79%) and Email (83%)``) or else the furthest; with none off, those
    ``at_risk`` the same way.  Each is (segment, value), the furthest past the target first;
    ``side``: where the furthest is (``below``, or ``above`` when lower is better);
    ``decimals``: the places of the bars' own labels; ``label``: the metric, named in the
    target (``the 85.0% CSAT target``) where nothing beside the title names it.
    """
    def shown(value: float) -> str:
        return number.value_words(value, unit) if decimals is None \
            else number.value(value, unit, decimals=decimals)

    goal = f"the {number.value_words(target, unit)} {label + ' ' if label else ''}target"
    named, state = (off, f"off {goal}") if off else (at_risk, f"at risk of missing {goal}")
    if not named:
        return (f"All {number.count(segments)} {nouns} meet {goal}",)
    if len(named) == segments:
        head = f"All {number.count(segments)} {nouns} are {state}"
    else:
        head = (f"{number.count(len(named))} of {number.count(segments)} {nouns} "
                f"{'is' if len(named) == 1 else 'are'} {state}")
    worst, furthest = named[0]
    found = [f"{head}, {worst} {'lowest' if side == 'below' else 'highest'} at "
             f"{shown(furthest)}", head]
    if len(named) <= 3:
        found.insert(0, f"{head}: {join_names([f'{s} ({shown(v)})' for s, v in named])}")
    return tuple(found)


def range_headlines(label: str, top: tuple[str, float], bottom: tuple[str, float],
                    unit: str) -> tuple[str, ...]:
    """Titles of a breakdown's table with no target, longest first: its highest and lowest
    rows (``Process followed has the highest defect rate: 11.5%, Data protection the
    lowest: 1.4%``; a count: ``Chat has the most tickets created: 5,304, Social the fewest: 310``).
    Each is (segment, value)."""
    (high, high_value), (low, low_value) = top, bottom
    noun = as_noun(label)
    if unit == "count":
        most = f"{high} has the most {noun}: {number.value_words(high_value, unit)}"
        return (f"{most}, {low} the fewest: {number.value_words(low_value, unit)}", most)
    highest = f"{high} has the highest {noun}: {number.value_words(high_value, unit)}"
    return (f"{highest}, {low} the lowest: {number.value_words(low_value, unit)}", highest)


def as_noun(label: str) -> str:
    """A metric's label inside a sentence: ``defect rate``, but ``CSAT`` and ``QA score``."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label
