"""What customers say: the words that set dissatisfied comments apart from satisfied ones.

``comment_themes`` reads a free-text column and a rating column.  Comments are scrubbed of
personal data first (e-mail addresses, URLs, phone numbers and name-like words), so nothing
downstream (terms, quotes, the report) ever sees it.  Words are runs of Unicode letters
(any script), casefolded; terms are single words and two-word phrases whose edges are not
stop words.

Each term is scored by the log-odds ratio with an informative Dirichlet prior (Monroe,
Colaresi & Quinn 2008, "Fightin' Words: Lexical Feature Selection and Evaluation for
Identifying the Content of Political Conflict", Political Analysis 16(4), section 3.5):

    delta_w = log((y_w^d + a_w) / (n^d + a_0 - y_w^d - a_w))
            - log((y_w^s + a_w) / (n^s + a_0 - y_w^s - a_w))
    var(delta_w) ~= 1 / (y_w^d + a_w) + 1 / (y_w^s + a_w),   z_w = delta_w / sqrt(var)

where y_w^d, y_w^s count the dissatisfied and satisfied comments using the term (once per
comment, so one long rant does not outweigh many customers), n^d,
n^s the groups' term totals, and the prior a_w = a_0 * (the term's share of every comment
in the loaded history), a_0 = ``prior_strength`` or, by default, the background's own term
count, so that a_w is simply the term's background count.  The prior shrinks rare terms towards the
background rate, so a word seen twice cannot top the list.

The value is the number of comments analysed; ``details["terms"]`` lists the terms most
typical of dissatisfied comments (z above ``min_z``), each with its count, z-score, the
share of dissatisfied comments using it now and last period, and short example quotes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.columns import numeric
from reportgen.metrics.estimates import Count

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")

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
        out.update(t for t in tokens if t not in STOPWORDS and len(t) > 1)
        for first, second in zip(tokens, tokens[1:], strict=False):
            if first not in STOPWORDS and second not in STOPWORDS:
                out.add(f"{first} {second}")
    return out


def log_odds(target: Mapping[str, int], other: Mapping[str, int],
             prior: Mapping[str, float], prior_strength: float) -> dict[str, tuple[float, float]]:
    """Per term in ``target`` or ``other``: (delta, z) of Monroe et al.'s log-odds ratio.

    ``prior`` holds background counts (any scale); they are rescaled to sum to
    ``prior_strength``.  A term absent from the background takes the smallest background
    count, since a_w must be positive where a group never uses the term.
    """
    total_prior = sum(prior.values())
    n_target, n_other = sum(target.values()), sum(other.values())
    smallest = min((v for v in prior.values() if v > 0), default=1.0)
    out = {}
    for term in set(target) | set(other):
        a_w = prior_strength * prior.get(term, smallest) / (total_prior or 1.0)
        y_t, y_o = target.get(term, 0), other.get(term, 0)
        delta = (math.log((y_t + a_w) / (n_target + prior_strength - y_t - a_w))
                 - math.log((y_o + a_w) / (n_other + prior_strength - y_o - a_w)))
        variance = 1.0 / (y_t + a_w) + 1.0 / (y_o + a_w)
        out[term] = (delta, delta / math.sqrt(variance))
    return out


class ThemeParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("text_column", "rating_column")
    text_column: str = Field("comment", description="Column holding the customer's free-text comment.")
    rating_column: str = Field("rating", description="Column holding the customer's rating.")
    satisfied_from: float = Field(4, description="Ratings at or above this are satisfied; below, dissatisfied.")
    top: int = Field(5, ge=1, le=50, description="How many terms to report.")
    min_count: int = Field(5, ge=1, description="A term must appear in at least this many dissatisfied comments.")
    min_z: float = Field(1.96, ge=0, description="Report only terms whose z-score exceeds this.")
    prior_strength: float | None = Field(None, gt=0, description="Total weight a_0 of the background prior (Monroe et al. 2008); by default the background's own term count, i.e. a_w = the term's background count.")
    quotes: int = Field(2, ge=0, le=5, description="Example comments quoted per term.")
    quote_chars: int = Field(120, ge=20, le=400, description="Quotes are cut to this many characters.")


def _comments(frame: pd.DataFrame, params: ThemeParams) -> pd.DataFrame:
    text = frame[params.text_column]
    rating = numeric(frame, params.rating_column)
    keep = text.notna() & rating.notna() & (text.astype(str).str.strip() != "")
    return pd.DataFrame({"text": text.loc[keep].astype(str),
                         "unhappy": rating.loc[keep] < params.satisfied_from})


def _counts(texts: Iterable[set[str]]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for found in texts:
        counted.update(found)
    return counted


def _quote(text: str, limit: int) -> str:
    clean = " ".join(scrub(text).split())
    if len(clean) <= limit:
        return clean
    return clean[:limit].rsplit(" ", 1)[0] + " …"


@CALCULATORS.register("comment_themes")
class CommentThemes(Calculator):
    """Comments analysed; the terms that set dissatisfied comments apart are in the details."""

    name = "comment_themes"
    Params = ThemeParams
    unit = "count"
    direction = "higher"
    additive = True
    estimate_kind = "count"
    formula = ("terms (words and two-word phrases) of {text_column} ranked by the log-odds "
               "ratio of dissatisfied ({rating_column} below {satisfied_from}) against "
               "satisfied comments, z = delta / sd, with an informative Dirichlet prior from "
               "every loaded comment (Monroe, Colaresi & Quinn 2008); value = comments analysed")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Count:
        assert isinstance(params, ThemeParams)
        return Count(float(len(_comments(frame, params))))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, ThemeParams)
        return themes(frame, params, history)


def themes(frame: pd.DataFrame, params: ThemeParams,
           history: HistoryFrames | None = None) -> dict[str, Any]:
    """The period's distinguishing terms (see the module docstring)."""
    now = _comments(frame, params)
    found = [terms(t) for t in now["text"]]
    unhappy = now["unhappy"].to_numpy()
    target = _counts(f for f, u in zip(found, unhappy, strict=True) if u)
    other = _counts(f for f, u in zip(found, unhappy, strict=True) if not u)
    background = history.combined() if history is not None else pd.DataFrame()
    prior = (_counts(terms(t) for t in _comments(background, params)["text"])
             if not background.empty else target + other)
    before = _previous(history, params)
    scored = log_odds(target, other, prior, params.prior_strength or float(sum(prior.values())))
    ranked = sorted((t for t in scored if target.get(t, 0) >= params.min_count
                     and scored[t][1] > params.min_z),
                    key=lambda t: (-scored[t][1], -t.count(" "), t))
    n_unhappy = int(unhappy.sum())
    users = {term: frozenset(i for i, (f, u) in enumerate(zip(found, unhappy, strict=True))
                             if u and term in f) for term in ranked}
    rows = []
    for term in _drop_covered(ranked, users)[:params.top]:
        texts = [now["text"].iloc[i] for i in sorted(users[term])]
        share = target[term] / n_unhappy if n_unhappy else None
        rows.append({
            "term": term, "count": target[term], "satisfied_count": other.get(term, 0),
            "delta": scored[term][0], "z": scored[term][1], "share": share,
            "previous_share": before.get(term), "previous_count": before.get(f"#{term}"),
            "quotes": [_quote(t, params.quote_chars) for t in
                       sorted(set(texts), key=lambda t: (len(t), t))[:params.quotes]]})
    return {"terms": rows, "dissatisfied": n_unhappy, "satisfied": int(len(now) - n_unhappy),
            "previous_dissatisfied": before.get("#", 0), "satisfied_from": params.satisfied_from}


def _drop_covered(ranked: list[str], users: Mapping[str, frozenset[int]]) -> list[str]:
    """Leave out a term whose comments are mostly those of a higher-ranked term it shares a
    word with ('policy' under 'refund policy') or exactly the same comments ('lost' and
    'lost time'), so one theme does not fill the list twice."""
    kept: list[str] = []
    for term in ranked:
        mine = users[term]
        if any(mine == users[k] or (set(term.split()) & set(k.split())
                                    and len(mine & users[k]) >= 0.8 * len(mine))
               for k in kept):
            continue
        kept.append(term)
    return kept


def _previous(history: HistoryFrames | None, params: ThemeParams) -> dict[str, Any]:
    """Share (and count, under '#term') of last period's dissatisfied comments per term;
    their number under '#'."""
    if history is None or history.current is None:
        return {}
    frame = history.frames.get(history.current.previous().key)
    if frame is None or frame.empty:
        return {}
    before = _comments(frame, params)
    unhappy = before.loc[before["unhappy"], "text"]
    if unhappy.empty:
        return {}
    counts = _counts(terms(t) for t in unhappy)
    return {**{t: c / len(unhappy) for t, c in counts.items()},
            **{f"#{t}": c for t, c in counts.items()}, "#": len(unhappy)}
