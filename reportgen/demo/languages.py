"""The language of each ticket and of each moderated item, and the two stories they tell.

``ticket_languages``: one row per solved ticket, ``ticket_id`` and ``language`` (English,
Spanish or Portuguese).  About a fifth of tickets are Spanish, but few reviewers read it:
the audits hold far fewer Spanish tickets than the ticket mix, and the Spanish tickets that
are audited fail more often (story ``audit_under_represents_spanish``).  So the audited pass
rate flatters: reweighted to all tickets' language mix it is about three points lower.

``moderation_decisions.language``: the language of the moderated item.  Portuguese
violence reports are over-enforced: most enforcing decisions whose gold label says no
action (the false positives) on violence are Portuguese items, so the policy area x
language cell violence / Portuguese has a low precision (story
``violence_portuguese_precision``).

Both columns are drawn on a random stream of their own after the tables they describe, so
nothing else in those tables changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo.columns import object_frame

LANGUAGES = ("English", "Spanish", "Portuguese")
#: share of Spanish tickets: not audited (the population, nearly), audited and passed, failed
SPANISH_SHARE = {"population": 0.24, "passed": 0.04, "failed": 0.15}
PORTUGUESE_SHARE = 0.16
PASS_SCORE = 80.0  # a review passes at this score or more (as ``pass_rate``)
#: moderation: the planted cell, and the chance an item there is Portuguese
PLANTED_AREA = "violence"
PORTUGUESE_FALSE_POSITIVE = 0.85  # of the area's false positives
PORTUGUESE_ELSEWHERE = 0.3  # of the area's other decisions
DECISION_SHARES = (0.62, 0.22, 0.16)  # every other area


def review_passed(ratings: pd.DataFrame) -> pd.Series:
    """Whether each review passed, by ``review_id``: a failed critical item fails it, else
    its weighted mean item score (0-100) must reach ``PASS_SCORE``."""
    rated = ratings.loc[ratings["rating"].notna()]
    rating = rated["rating"].astype(float)
    score = (rating - rated["scale_min"]) / (rated["scale_max"] - rated["scale_min"])
    weighted = (score * rated["weight"]).groupby(rated["review_id"]).sum()
    weights = rated["weight"].groupby(rated["review_id"]).sum()
    critical_fail = ((rated["critical"] == 1) & (rating == 0)).groupby(rated["review_id"]).any()
    return (100 * weighted / weights >= PASS_SCORE) & ~critical_fail


def ticket_languages(rng: np.random.Generator, tickets: pd.DataFrame, reviews: pd.DataFrame,
                     ratings: pd.DataFrame) -> pd.DataFrame:
    """``ticket_languages`` in export column order (solved tickets in ticket order)."""
    solved = tickets.loc[tickets["status"] == "solved", "ticket_id"].to_numpy()
    passed = review_passed(ratings)
    outcome = pd.Series(reviews["review_id"].map(passed).to_numpy(),
                        index=reviews["ticket_id"].to_numpy())
    audited = outcome.reindex(solved)
    spanish = np.where(audited.isna(), SPANISH_SHARE["population"],
                       np.where(audited.fillna(False).astype(bool), SPANISH_SHARE["passed"],
                                SPANISH_SHARE["failed"]))
    draw = rng.random(solved.size)
    language = np.where(draw < spanish, "Spanish",
                        np.where(draw < spanish + PORTUGUESE_SHARE, "Portuguese", "English"))
    return object_frame({"ticket_id": solved, "language": language.astype(object)})


def decision_languages(rng: np.random.Generator, decisions: pd.DataFrame) -> np.ndarray:
    """The language of each moderated item (``decisions`` in export order)."""
    enforced = decisions["action"].to_numpy() != "no_action"
    gold = decisions["gold_action"].to_numpy(dtype=object)
    false_positive = enforced & pd.notna(gold) & (gold == "no_action")
    planted = decisions["policy_area"].to_numpy() == PLANTED_AREA
    draw = rng.random(len(decisions))
    english, spanish, _ = DECISION_SHARES
    other = np.where(draw < english, "English",
                     np.where(draw < english + spanish, "Spanish", "Portuguese"))
    portuguese = np.where(false_positive, PORTUGUESE_FALSE_POSITIVE, PORTUGUESE_ELSEWHERE)
    second = rng.random(len(decisions))
    in_area = np.where(second < portuguese, "Portuguese",
                       np.where(second < portuguese + (1 - portuguese) / 2, "Spanish", "English"))
    return np.where(planted, in_area, other).astype(object)
