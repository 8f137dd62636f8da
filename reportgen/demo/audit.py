"""The QA sample behind the reviews: every ticket drawn for audit, and what became of it.

Each month the QA tool draws solved tickets for the reviewers (``qa.py`` picks the ones
audited, balanced so that every agent gets a similar number of reviews).  Every review is a
drawn ticket that was ``audited``.  Reviewers also turned down some drawn tickets: they
``replaced`` one with another ticket of the same agent, or ``skipped`` it.  They turn down
long chat tickets most: 70-85% of the tickets turned down are chats (about a third of those
audited), and they took about twice the handle time (story ``audit_skips_long_chat``).

``qa_sample``: one row per drawn ticket, ``ticket_id``, ``drawn_at`` (when the tool drew
it: after the solve, in the month the ticket was audited or turned down), ``review_status``
and the ``review_id`` of an audited ticket (NULL otherwise).  Skipped and replaced tickets are never audited later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo.columns import object_frame
from reportgen.demo.qa import REVIEW_WINDOW_DAYS
from reportgen.demo.timeline import Timeline, as_text, office_time_on

#: tickets turned down per ticket audited
TURNED_DOWN_PER_AUDIT = 0.12
REPLACED_SHARE = 0.7  # of the tickets turned down; the rest were skipped outright
#: log-odds that a drawn ticket is turned down: a chat, and per standard deviation of
#: log handle time (a longer conversation to read)
CHAT_LOG_ODDS = 1.6
LENGTH_LOG_ODDS = 0.8


def _drawn_before(rng: np.random.Generator, timeline: Timeline, solved: np.ndarray,
                  reviewed: np.ndarray) -> np.ndarray:
    """When the tool drew each audited ticket: in the month of its review, after the solve
    and before the review (a month's draw reaches back to tickets solved shortly before)."""
    month_start = timeline.month_starts.astype("datetime64[s]")[timeline.month_index(reviewed)]
    earliest = np.maximum(solved, month_start)
    gap = (reviewed - earliest).astype("int64")
    share = rng.uniform(0.1, 0.9, size=gap.size)
    return earliest + (gap * share).astype("int64").astype("timedelta64[s]")


def _turned_down(rng: np.random.Generator, timeline: Timeline, tickets: pd.DataFrame,
                 audited: np.ndarray, reviewed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ticket rows, drawn_at) of the drawn tickets reviewers skipped or replaced."""
    solved = tickets["solved"].to_numpy()
    chat = (tickets["channel"] == "chat").to_numpy()
    handle = tickets["handle_minutes"].to_numpy(dtype=float)
    taken = np.zeros(len(tickets), dtype=bool)
    taken[audited] = True
    starts = timeline.month_starts.astype("datetime64[s]")
    window = np.timedelta64(REVIEW_WINDOW_DAYS, "D")
    rows_out: list[np.ndarray] = []
    times_out: list[np.ndarray] = []
    reviewed_per_month = np.bincount(timeline.month_index(reviewed), minlength=timeline.months)
    for month, (start, end) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        eligible = (~taken & ~np.isnat(solved) & (solved >= start - window)
                    & (solved < end - np.timedelta64(1, "D")) & (handle > 0))
        pool = np.flatnonzero(eligible)
        length = np.log(handle[pool])
        z = (length - length.mean()) / length.std()
        weights = np.exp(CHAT_LOG_ODDS * chat[pool] + LENGTH_LOG_ODDS * z)
        expected = TURNED_DOWN_PER_AUDIT * max(int(reviewed_per_month[month]), 1)
        count = min(int(rng.poisson(expected)), pool.size)
        chosen = np.sort(rng.choice(pool, size=count, replace=False, p=weights / weights.sum()))
        taken[chosen] = True
        earliest = np.maximum(solved[chosen], start)
        days = earliest.astype("datetime64[D]")
        span = ((end - np.timedelta64(1, "s")).astype("datetime64[D]") - days).astype("int64")
        day = days + (rng.random(count) * (span + 1)).astype("int64")
        moment = office_time_on(rng, day)
        # a draw follows the solve: the same day's slot may come before it
        moment = np.where(moment <= solved[chosen],
                          solved[chosen] + np.timedelta64(600, "s"), moment)
        rows_out.append(chosen)
        times_out.append(np.minimum(moment, end - np.timedelta64(1, "s")))
    return np.concatenate(rows_out), np.concatenate(times_out)


def generate_sample(rng: np.random.Generator, timeline: Timeline, tickets: pd.DataFrame,
                    reviews: pd.DataFrame) -> pd.DataFrame:
    """``qa_sample`` in export column order, ordered by ``drawn_at``."""
    row_of = pd.Series(np.arange(len(tickets)), index=tickets["ticket_id"].to_numpy())
    audited = row_of.loc[reviews["ticket_id"].to_numpy()].to_numpy()
    solved = tickets["solved"].to_numpy()
    reviewed = pd.to_datetime(reviews["reviewed_at"]).to_numpy().astype("datetime64[s]")
    audited_at = _drawn_before(rng, timeline, solved[audited], reviewed)
    declined, declined_at = _turned_down(rng, timeline, tickets, audited, reviewed)
    status = np.where(rng.random(declined.size) < REPLACED_SHARE, "replaced", "skipped")

    ticket_ids = tickets["ticket_id"].to_numpy()
    drawn = np.concatenate([audited_at, declined_at])
    order = np.argsort(drawn, kind="stable")
    review_ids = np.concatenate([reviews["review_id"].to_numpy(),
                                 np.full(declined.size, None, dtype=object)])
    return object_frame({
        "ticket_id": np.concatenate([ticket_ids[audited], ticket_ids[declined]])[order],
        "drawn_at": as_text(drawn[order]),
        "review_status": np.concatenate([np.full(audited.size, "audited", dtype=object),
                                         status.astype(object)])[order],
        "review_id": review_ids[order],
    })
