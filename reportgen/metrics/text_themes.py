"""What customers say: the phrases that set dissatisfied comments apart from satisfied ones.

``comment_themes`` reads a free-text column and a rating column.  Comments are scrubbed of
personal data first (e-mail addresses, URLs, phone numbers and name-like words), so nothing
downstream (terms, quotes, the report) ever sees it.  Words are runs of Unicode letters
(any script), casefolded; the candidate terms are two-word phrases within a clause whose
words are not stop words ("refund policy", "password reset") and single words.

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

A theme is said as a phrase where one is: a single word stays a theme only when no phrase
containing it is stronger (a higher z, or at least half of the word's dissatisfied comments,
so the word is mostly said as part of the phrase); otherwise the phrase stands for it.  A
term whose comments are mostly those of a stronger term it shares a word with is left out.

The value is the number of comments analysed; ``details["terms"]`` lists the terms most
typical of dissatisfied comments (z above ``min_z``), each with its count, z-score, the
share of dissatisfied comments using it now and last period, its trend (``new``,
``growing``: the share at least doubled, ``fading``: it at least halved, or ``steady``;
None without last period's comments) and short example quotes, no quote (nor a
near-duplicate of one) given for two themes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.columns import numeric
from reportgen.metrics.comment_text import quote, terms, words
from reportgen.metrics.estimates import Count
from reportgen.metrics.theme_selection import distinct_quotes, select_terms, trend

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")


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
    top: int = Field(5, ge=1, le=50, description="How many themes to report.")
    min_count: int = Field(5, ge=1, description="A term must appear in at least this many dissatisfied comments.")
    min_z: float = Field(1.96, ge=0, description="Report only terms whose z-score exceeds this.")
    prior_strength: float | None = Field(None, gt=0, description="Total weight a_0 of the background prior (Monroe et al. 2008); by default the background's own term count, i.e. a_w = the term's background count.")
    quotes: int = Field(2, ge=0, le=5, description="Example comments quoted per theme (no quote is given for two themes).")
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


@CALCULATORS.register("comment_themes")
class CommentThemes(Calculator):
    """Comments analysed; the terms that set dissatisfied comments apart are in the details."""

    name = "comment_themes"
    Params = ThemeParams
    unit = "count"
    direction = "higher"
    additive = True
    estimate_kind = "count"
    formula = ("themes (two-word phrases, or single words no phrase holding them beats) of "
               "{text_column} ranked by the log-odds ratio of dissatisfied ({rating_column} "
               "below {satisfied_from}) against satisfied comments, z = delta / sd, with an "
               "informative Dirichlet prior from every loaded comment (Monroe, Colaresi & Quinn "
               "2008); value = comments analysed")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Count:
        assert isinstance(params, ThemeParams)
        return Count(float(len(_comments(frame, params))))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, ThemeParams)
        return themes(frame, params, history)


def themes(frame: pd.DataFrame, params: ThemeParams,
           history: HistoryFrames | None = None) -> dict[str, Any]:
    """The period's distinguishing themes (see the module docstring)."""
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
    users = _users(ranked, found, unhappy)
    chosen = select_terms(ranked, users, {t: scored[t][1] for t in ranked}, params.top)
    texts = now["text"].to_numpy()
    quotes = distinct_quotes(
        ((quote(t, params.quote_chars) for t in
          sorted({texts[i] for i in users[term]}, key=lambda t: (len(t), t)))
         for term in chosen), params.quotes, words)
    n_unhappy = int(unhappy.sum())
    compared = bool(before.get("#"))
    rows = []
    for term, said in zip(chosen, quotes, strict=True):
        share = target[term] / n_unhappy if n_unhappy else None
        rows.append({
            "term": term, "count": target[term], "satisfied_count": other.get(term, 0),
            "delta": scored[term][0], "z": scored[term][1], "share": share,
            "previous_share": before.get(term), "previous_count": before.get(f"#{term}"),
            "trend": trend(share, before.get(term), compared), "quotes": said})
    return {"terms": rows, "dissatisfied": n_unhappy, "satisfied": int(len(now) - n_unhappy),
            "previous_dissatisfied": before.get("#", 0), "satisfied_from": params.satisfied_from}


def _users(ranked: list[str], found: list[set[str]], unhappy: Any) -> dict[str, frozenset[int]]:
    """Per ranked term, the dissatisfied comments (positions) using it, in one pass."""
    wanted = set(ranked)
    users: dict[str, set[int]] = {t: set() for t in ranked}
    for i, (terms_used, is_unhappy) in enumerate(zip(found, unhappy, strict=True)):
        if is_unhappy:
            for term in terms_used & wanted:
                users[term].add(i)
    return {t: frozenset(i) for t, i in users.items()}


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
