"""The words of a customer's comment: personal data masked, words, candidate terms, quotes.

Work is linear in the comment's length, which is capped at ``MAX_COMMENT_CHARS``.
"""

from __future__ import annotations

import re

# Personal data in free text.  Order matters: an e-mail holds what looks like a URL host.
# Each pattern starts only at a token boundary, so a long run of word characters is not
# rescanned from every position (quadratic time on hostile input).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Seven or more digits, optionally led by '+' and split by spaces, dots, dashes or brackets.
_PHONE = re.compile(r"(?<!\w)\+?\(?\d(?:[\s().-]*\d){6,}(?!\w)")
# A capitalised word that does not open a sentence is most often a name (greetings,
# signatures, "ask Maria"); titles mark the word after them as one.
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Miss)\.?\s+[^\W\d_]+", re.UNICODE)
# Unicode letters in any script (``[^\W\d_]`` is a letter in Python's Unicode regexes),
# with inner apostrophes kept ("don't").
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_CLAUSE = re.compile(r"[.!?;:,()\[\]\"“”。！？、，]+")

# English function words; other languages' terms pass through (add a stopwords list per
# language when a report needs one).
_STOPWORD_TEXT = """
a about after again all also am an and any are as at be because been before being but by
can could did do does doing don't for from had has have having he her here hers him his how
i i'm if in into is it it's its just me more most my no nor not of off on once only or other
our ours out over own same she should so some such than that the their them then there these
they this those through to too under until up very was we were what when where which while
who why will with would you your yours get got one
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


#: Comments are read up to this many characters (a comment is a few sentences; the cap
#: bounds the work a hostile cell can cause).
MAX_COMMENT_CHARS = 5000


def scrub(text: str, mark: bool = True) -> str:
    """``text`` (up to MAX_COMMENT_CHARS) with e-mails, URLs, phone numbers and name-like
    words masked.

    ``mark``: replace each with a bracketed label (for quotes) or with a phrase break
    (for terms, so no phrase spans the gap).
    """
    text = text[:MAX_COMMENT_CHARS]
    def label(name: str) -> str:
        return f"[{name}]" if mark else " . "

    text = _EMAIL.sub(label("e-mail"), text)
    text = _URL.sub(label("link"), text)
    text = _PHONE.sub(label("phone"), text)
    text = _TITLED.sub(label("name"), text)

    def name_like(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < 2 or not word[0].isupper() or word.isupper():
            return word  # "I", acronyms, and scripts without case
        at = match.start() - 1
        while at >= 0 and text[at].isspace():
            at -= 1
        if at < 0 or text[at] in ".!?:\"“(]":
            return word  # opens a sentence
        return label("name")

    return _WORD.sub(name_like, text)


def words(text: str) -> list[str]:
    """The casefolded words of ``text`` (letters of any script)."""
    return [w.casefold().replace("’", "'") for w in _WORD.findall(text)]


def terms(text: str) -> set[str]:
    """Distinct words and two-word phrases of a scrubbed comment, stop words left out."""
    out: set[str] = set()
    for clause in _CLAUSE.split(scrub(text, mark=False)):
        tokens = words(clause)
        out.update(t for t in tokens if _content(t))
        for first, second in zip(tokens, tokens[1:], strict=False):
            if _content(first) and _content(second):
                out.add(f"{first} {second}")
    return out


def _content(word: str) -> bool:
    return word not in STOPWORDS and len(word) > 1


def quote(text: str, limit: int) -> str:
    """``text`` scrubbed, its white space collapsed, cut to ``limit`` characters at a word."""
    clean = " ".join(scrub(text).split())
    if len(clean) <= limit:
        return clean
    return clean[:limit].rsplit(" ", 1)[0] + " …"
