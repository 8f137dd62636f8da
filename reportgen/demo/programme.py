"""The QA programme around the reviews: agents' disputes and the automatic scorer's ratings.

Disputes: an agent may dispute a defect rating (a rating in the lower half of its scale) of
a graded category.  A QA lead upholds or accepts it; accepted disputes on 'Correct
information' are far more common than elsewhere (the outdated knowledge-base article made
reviewers mark right answers wrong as well).  A dispute still open at the snapshot has no
``resolved_at``, ``outcome`` 'pending' and a NULL ``accepted``.

Automatic scores: an automatic scorer rates every graded category of every reviewed ticket
on the same 1-4 scale.  It mostly agrees with the human reviewer, but on 'Greeting & tone'
it agrees little better than chance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo.columns import object_frame, sequential_ids
from reportgen.demo.timeline import Timeline, as_text

DISPUTE_RATE = 0.45  # share of defect ratings the agent disputes
ACCEPT_RATE = {"Correct information": 0.6}
ACCEPT_RATE_ELSEWHERE = 0.18
MEDIAN_DAYS_TO_RESOLVE = 3.0
AUTO_AGREEMENT = {"Greeting & tone": 0.3}  # chance the scorer copies the human rating
AUTO_AGREEMENT_ELSEWHERE = 0.85


def _graded(ratings: pd.DataFrame) -> pd.DataFrame:
    graded = ratings.loc[ratings["critical"] == 0]
    return graded.loc[graded["rating"].notna()]


def generate_disputes(rng: np.random.Generator, timeline: Timeline, reviews: pd.DataFrame,
                      ratings: pd.DataFrame) -> pd.DataFrame:
    """``qa_disputes`` in export column order, raised by the time of the snapshot."""
    graded = _graded(ratings)
    midpoint = graded["scale_min"] + (graded["scale_max"] - graded["scale_min"]) / 2
    defects = graded.loc[graded["rating"].astype(float) <= midpoint]
    disputed = defects.loc[rng.random(len(defects)) < DISPUTE_RATE]
    rows = disputed.merge(reviews, on="review_id", how="left", validate="many_to_one")
    n = len(rows)
    reviewed = rows["reviewed_at"].to_numpy().astype("datetime64[s]")
    raised = reviewed + (rng.uniform(0.2, 4.0, n) * 86400).astype("timedelta64[s]")
    days = np.round(np.exp(np.log(MEDIAN_DAYS_TO_RESOLVE) + 0.6 * rng.standard_normal(n)), 2)
    resolved = raised + (days * 86400).astype("timedelta64[s]")
    accept = np.array([ACCEPT_RATE.get(c, ACCEPT_RATE_ELSEWHERE) for c in rows["category"]])
    accepted = rng.random(n) < accept
    keep = raised < timeline.snapshot
    pending = resolved >= timeline.snapshot
    order = np.flatnonzero(keep)[np.argsort(raised[keep], kind="stable")]
    outcome = np.where(pending, "pending", np.where(accepted, "accepted", "upheld")).astype(object)
    resolved_text = as_text(resolved).astype(object)
    resolved_text[pending] = None
    return object_frame({
        "dispute_id": sequential_ids("D", order.size, 6),
        "review_id": rows["review_id"].to_numpy()[order],
        "raised_at": as_text(raised[order]),
        "resolved_at": resolved_text[order],
        "auditor_id": rows["auditor_id"].to_numpy()[order],
        "agent_id": rows["agent_id"].to_numpy()[order],
        "queue": rows["queue"].to_numpy()[order],
        "category": rows["category"].to_numpy()[order],
        "outcome": outcome[order],
        "accepted": pd.array(np.where(pending, np.nan, accepted.astype(float))[order],
                             dtype="Int64"),
        "days_to_resolve": np.where(pending, np.nan, days)[order],
    })


def generate_auto_scores(rng: np.random.Generator, reviews: pd.DataFrame,
                         ratings: pd.DataFrame) -> pd.DataFrame:
    """``qa_auto_scores`` in export column order: one row per reviewed graded category."""
    graded = _graded(ratings)
    rows = graded.merge(reviews, on="review_id", how="left", validate="many_to_one")
    n = len(rows)
    human = rows["rating"].to_numpy(dtype=float)
    agree = np.array([AUTO_AGREEMENT.get(c, AUTO_AGREEMENT_ELSEWHERE) for c in rows["category"]])
    low = rows["scale_min"].to_numpy(dtype=int)
    high = rows["scale_max"].to_numpy(dtype=int)
    guess = low + np.floor(rng.random(n) * (high - low + 1)).astype(int)
    auto = np.where(rng.random(n) < agree, human, guess)
    return object_frame({
        "review_id": rows["review_id"].to_numpy(),
        "reviewed_at": rows["reviewed_at"].to_numpy(),
        "agent_id": rows["agent_id"].to_numpy(),
        "queue": rows["queue"].to_numpy(),
        "category": rows["category"].to_numpy(),
        "human_rating": human.astype(np.int64),
        "auto_rating": auto.astype(np.int64),
    })

