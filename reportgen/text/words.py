"""Words around numbers: plurals, lists, breakdown nouns (English prose)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportgen.text.number import count


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 queue``, ``3 queues``, ``2 categories`` (the count in the report's locale)."""
    if n == 1:
        return f"{count(n)} {word}"
    return f"{count(n)} {many or plural_noun(word)}"


def plural_noun(word: str) -> str:
    """``queue`` -> ``queues``, ``category`` -> ``categories``."""
    consonant_y = word.endswith("y") and word[-2:-1] not in "aeiou"
    return word[:-1] + "ies" if consonant_y else word + "s"


def join_names(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    items = list(names)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def humanise(name: str) -> str:
    """A column or breakdown key as words: ``contact_reason`` -> ``contact reason``."""
    return name.replace(",", " / ").replace("_", " ")


_CODE_VALUE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def value_label(value: str) -> str:
    """A data value as a reader names it: ``hate_speech`` -> ``Hate speech``, ``email`` -> ``Email``.

    Only values written like codes (lower case, words joined by ``_``) change; ``AU07``,
    ``Billing`` or ``Correct information`` are already how people write them.
    """
    if not _CODE_VALUE.fullmatch(value):
        return value
    return value.replace("_", " ").capitalize()
