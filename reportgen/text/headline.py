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
