"""The quality of every solved ticket, audited or not, rubric item by rubric item.

A review rates what a reviewer saw; tickets nobody audited were handled just as well or as
badly, and what happened to them (the automatic scorer's ratings, the customer's re-contact)
follows that quality too.  ``ticket_ratings`` gives every solved ticket a rating per
scorecard category: an audited ticket its review's ratings, any other the rating a reviewer
would have given, drawn as ``qa.py`` draws them (the agent's skill, the Onboarding coaching,
the outdated article behind 'Correct information' defects) without any reviewer's leniency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo import catalog
from reportgen.demo.qa import COACHING_LIFT, correct_information_extra, rate_category
from reportgen.demo.stories import StoryDates
from reportgen.demo.timeline import Timeline

QUALITY_NOISE = 0.45  # as a review's: tickets of one agent differ this much on the logit scale


def ticket_ratings(rng: np.random.Generator, timeline: Timeline, dates: StoryDates,
                   tickets: pd.DataFrame, skill: np.ndarray, reviews: pd.DataFrame,
                   ratings: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(ticket rows of every solved ticket, ratings): one row per solved ticket, one column
    per ``catalog.SCORECARD`` category, NaN where the category did not apply."""
    solved = np.flatnonzero(~np.isnat(tickets["solved"].to_numpy()))
    row_of = pd.Series(np.arange(len(tickets)), index=tickets["ticket_id"].to_numpy())
    names = [c.name for c in catalog.SCORECARD]
    by_review = (ratings.pivot(index="review_id", columns="category", values="rating")
                 .reindex(columns=names).astype(float))
    reviewed_rows = row_of.loc[reviews["ticket_id"].to_numpy()].to_numpy()
    reviewed_ratings = by_review.reindex(reviews["review_id"].to_numpy()).to_numpy()

    others = np.setdiff1d(solved, reviewed_rows)
    picked = tickets.iloc[others]
    created = picked["created"].to_numpy()
    queue_code = picked["queue_code"].to_numpy()
    coached = (queue_code == catalog.QUEUE_NAMES.index("Onboarding")) & (
        created >= dates.coaching_start)
    quality = (skill[others] + COACHING_LIFT * coached
               + QUALITY_NOISE * rng.standard_normal(others.size))
    extra = correct_information_extra(timeline, dates, created, queue_code)
    replies = picked["agent_replies"].to_numpy()
    escalated = picked["escalated"].to_numpy() == 1
    drawn = np.column_stack([rate_category(rng, category, quality, extra, replies, escalated)
                             for category in catalog.SCORECARD])

    out = np.full((len(tickets), len(names)), np.nan)
    out[others] = drawn
    out[reviewed_rows] = reviewed_ratings
    return solved, out[solved]
