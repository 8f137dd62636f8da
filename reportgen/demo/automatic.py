"""The automatic scorer on tickets no reviewer audits, and the reviewers who confirm it.

From ``StoryDates.automatic_scoring_start`` (three months before the end of the span) the
automatic scorer also rates every graded category of solved tickets nobody audits, as it
rates audited ones (``programme.py``): it copies the rating a reviewer would have given
(``unreviewed.py``) about 85% of the time, 30% on 'Greeting & tone', and guesses otherwise.
Reviewers confirm the automatic ratings of about one such ticket in five, without rating
the ticket themselves: ``confirmed_by`` names the reviewer (NULL: unconfirmed).  Counting
unconfirmed automatic ratings would pull the IQS down (story ``autoqa_kept_apart``).

``qa_auto_only``: one row per ticket and graded category the automatic scorer alone rated:
``ticket_id``, ``scored_at``, ``agent_id``, ``queue``, ``category``, ``auto_rating`` and
``confirmed_by``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo import catalog, staff
from reportgen.demo.columns import object_frame
from reportgen.demo.programme import AUTO_AGREEMENT, AUTO_AGREEMENT_ELSEWHERE
from reportgen.demo.stories import StoryDates
from reportgen.demo.timeline import Timeline, as_text, hours

CONFIRMED_SHARE = 0.2  # tickets whose automatic ratings a reviewer confirms
MEDIAN_HOURS_TO_SCORE = 2.0


def generate_automatic_only(rng: np.random.Generator, timeline: Timeline, dates: StoryDates,
                            tickets: pd.DataFrame, reviews: pd.DataFrame, rows: np.ndarray,
                            ratings: np.ndarray) -> pd.DataFrame:
    """``qa_auto_only`` in export column order, ordered by ``scored_at``.

    ``rows`` and ``ratings`` are ``unreviewed.ticket_ratings``: every solved ticket's row in
    ``tickets`` and its rating per scorecard category.
    """
    solved = tickets["solved"].to_numpy()[rows]
    audited = np.isin(tickets["ticket_id"].to_numpy()[rows], reviews["ticket_id"].to_numpy())
    delay = np.exp(np.log(MEDIAN_HOURS_TO_SCORE) + 0.8 * rng.standard_normal(rows.size))
    scored = solved + hours(np.round(delay, 4))
    chosen = np.flatnonzero(~audited & (solved >= dates.automatic_scoring_start)
                            & (scored < timeline.snapshot))
    confirmed = rng.random(chosen.size) < CONFIRMED_SHARE
    confirmer = np.array(staff.AUDITORS, dtype=object)[
        rng.integers(0, len(staff.AUDITORS), chosen.size)]
    confirmer[~confirmed] = None

    graded = [k for k, c in enumerate(catalog.SCORECARD) if not c.critical]
    parts = []
    for k in graded:
        category = catalog.SCORECARD[k]
        true = ratings[chosen, k]
        rated = ~np.isnan(true)
        copy = rng.random(chosen.size) < AUTO_AGREEMENT.get(category.name,
                                                             AUTO_AGREEMENT_ELSEWHERE)
        guess = category.scale_min + np.floor(
            rng.random(chosen.size) * (category.scale_max - category.scale_min + 1))
        auto = np.where(copy, true, guess)
        keep = np.flatnonzero(rated)
        parts.append(pd.DataFrame({"index": chosen[keep], "order": k,
                                   "auto": auto[keep].astype(np.int64),
                                   "confirmed_by": confirmer[keep]}))
    items = pd.concat(parts, ignore_index=True)
    items = items.assign(scored=scored[items["index"].to_numpy()]).sort_values(
        ["scored", "index", "order"], kind="stable")
    picked = tickets.iloc[rows[items["index"].to_numpy()]]
    confirmed = items["confirmed_by"].to_numpy(dtype=object)
    confirmed[pd.isna(confirmed)] = None
    return object_frame({
        "ticket_id": picked["ticket_id"].to_numpy(),
        "scored_at": as_text(items["scored"].to_numpy()),
        "agent_id": picked["agent_id"].to_numpy(),
        "queue": picked["queue"].to_numpy(),
        "category": np.array([catalog.SCORECARD[k].name for k in items["order"]], dtype=object),
        "auto_rating": items["auto"].to_numpy(),
        "confirmed_by": confirmed,
    })


#: the rubric item whose automatic ratings drift in the last month (story
#: ``autoqa_empathy_drift``), and the chance a rating there is one step too generous
DRIFT_ITEM = "Empathy"
DRIFT_SHARE = 0.6
CHECKED_SHARE = 0.12  # automatic-only tickets a reviewer re-rates item by item
MEDIAN_HOURS_TO_CHECK = 20.0


def drift_and_checks(rng: np.random.Generator, timeline: Timeline, tickets: pd.DataFrame,
                     automatic_only: pd.DataFrame, rows: np.ndarray,
                     ratings: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``qa_auto_only`` with the last month's drift, and ``qa_auto_checks``.

    In the last month a new version of the automatic scorer rates 'Empathy' one step higher
    than a reviewer would about 60% of the time on the tickets it alone scores.  Reviewers
    re-rate every graded item of about one automatic-only ticket in eight (``checked_by``,
    ``checked_at``, ``human_rating``: the rating they would give), so the drift shows as
    agreement with reviewers falling.  Drawn on a stream of its own after ``qa_auto_only``.
    """
    position = pd.Series(np.arange(rows.size), index=tickets["ticket_id"].to_numpy()[rows])
    at = position.loc[automatic_only["ticket_id"].to_numpy()].to_numpy()
    order = {c.name: k for k, c in enumerate(catalog.SCORECARD)}
    item = automatic_only["category"].map(order).to_numpy()
    truth = ratings[at, item]
    scored = pd.to_datetime(automatic_only["scored_at"]).to_numpy().astype("datetime64[s]")
    last = timeline.month_starts.astype("datetime64[s]")[-2]
    category = catalog.SCORECARD[order[DRIFT_ITEM]]
    drifts = ((automatic_only["category"].to_numpy() == DRIFT_ITEM) & (scored >= last)
              & (rng.random(len(automatic_only)) < DRIFT_SHARE))
    drifted = automatic_only.copy()
    drifted["auto_rating"] = np.where(drifts, np.minimum(truth + 1, category.scale_max),
                                      automatic_only["auto_rating"].to_numpy()).astype(np.int64)

    tickets_scored = automatic_only["ticket_id"].drop_duplicates().to_numpy()
    checked = tickets_scored[rng.random(tickets_scored.size) < CHECKED_SHARE]
    reviewer = pd.Series(np.array(staff.AUDITORS, dtype=object)[
        rng.integers(0, len(staff.AUDITORS), checked.size)], index=checked)
    delay = pd.Series(hours(np.round(np.exp(np.log(MEDIAN_HOURS_TO_CHECK)
                                            + 0.5 * rng.standard_normal(checked.size)), 4)),
                      index=checked)
    rows_checked = np.flatnonzero(automatic_only["ticket_id"].isin(checked).to_numpy())
    ids = automatic_only["ticket_id"].to_numpy()[rows_checked]
    checked_at = scored[rows_checked] + delay.loc[ids].to_numpy()
    keep = checked_at < timeline.snapshot
    rows_checked, ids = rows_checked[keep], ids[keep]
    sort = np.argsort(checked_at[keep], kind="stable")
    rows_checked, ids = rows_checked[sort], ids[sort]
    checks = object_frame({
        "ticket_id": ids,
        "category": automatic_only["category"].to_numpy()[rows_checked],
        "checked_at": as_text(checked_at[keep][sort]),
        "checked_by": reviewer.loc[ids].to_numpy(),
        "human_rating": truth[rows_checked].astype(np.int64),
    })
    return drifted, checks
