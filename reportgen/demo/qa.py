"""QA audits: which solved tickets get reviewed, by whom, and the category ratings given.

Scorecard 'Support v3' (see ``catalog.SCORECARD``): seven graded categories on 1-4 and the
critical binary 'Data protection' (0 = fail, 1 = pass).  A rating is a *defect* when it is
in the lower half of its scale: ``rating <= scale_min + (scale_max - scale_min) / 2``, i.e.
1 or 2 on 1-4 and 0 on 0-1.  A NULL rating means the category was N/A for that ticket.

The review score used by the planted stories is the weighted mean of
``(rating - scale_min) / (scale_max - scale_min)`` over rated categories, times 100, and 0
when a critical category fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo import catalog, staff
from reportgen.demo.columns import by_code, logit, object_frame, sequential_ids, sigmoid
from reportgen.demo.stories import StoryDates
from reportgen.demo.timeline import OFFICE_HOURS, Timeline, as_text

REVIEWS_PER_MONTH = 750
REVIEW_WINDOW_DAYS = 12  # tickets solved this long before a month may be reviewed in it
COACHING_LIFT = 0.62  # logit-scale quality lift for coached Onboarding agents
DRIFT_LENIENCY = 0.75  # AU07's extra leniency once the drift starts
# Extra 'Correct information' defect log-odds once the ramp is complete.
DEFECT_RAMP = {"Technical Support": 3.4, "Shipping": 3.4}
DEFECT_RAMP_ELSEWHERE = 0.35


def _pick_reviews(rng: np.random.Generator, timeline: Timeline,
                  tickets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(ticket rows, reviewed_at) for each month, balanced so each agent gets similar counts."""
    solved = tickets["solved"].to_numpy()
    agent = tickets["agent_idx"].to_numpy()
    taken = np.zeros(len(tickets), dtype=bool)
    starts = timeline.month_starts.astype("datetime64[s]")
    rows_out: list[np.ndarray] = []
    times_out: list[np.ndarray] = []
    window = np.timedelta64(REVIEW_WINDOW_DAYS, "D")
    for start, end in zip(starts[:-1], starts[1:], strict=True):
        eligible = (~taken & ~np.isnat(solved) & (solved >= start - window)
                    & (solved < end - np.timedelta64(1, "D")))
        pool = np.flatnonzero(eligible)
        per_agent = np.bincount(agent[pool], minlength=agent.max() + 1)
        weights = 1.0 / per_agent[agent[pool]]
        count = min(int(rng.poisson(REVIEWS_PER_MONTH)), pool.size)
        chosen = np.sort(rng.choice(pool, size=count, replace=False, p=weights / weights.sum()))
        taken[chosen] = True
        rows_out.append(chosen)
        times_out.append(_review_times(rng, np.maximum(solved[chosen], start), end))
    rows = np.concatenate(rows_out)
    times = np.concatenate(times_out)
    order = np.argsort(times, kind="stable")
    return rows[order], times[order]


def _review_times(rng: np.random.Generator, earliest: np.ndarray, end: np.datetime64) -> np.ndarray:
    """Office-hours instants after ``earliest`` and before ``end``, weekdays preferred."""
    first_day = earliest.astype("datetime64[D]")
    span = (end.astype("datetime64[D]") - first_day).astype("int64")
    # Three tries at a weekday; auditors rarely work weekends but sometimes do.
    day = first_day + (rng.random(earliest.size) * span).astype("int64")
    for _ in range(2):
        weekend = (day.astype("int64") + 3) % 7 >= 5
        retry = first_day + (rng.random(earliest.size) * span).astype("int64")
        day = np.where(weekend, retry, day)
    hour = rng.choice(24, size=earliest.size, p=OFFICE_HOURS / OFFICE_HOURS.sum())
    seconds = hour * 3600 + rng.integers(0, 3600, size=earliest.size)
    moment = day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    # A review cannot precede the solve: take the next day's slot, or failing that (the
    # month is over) a moment shortly after the solve.
    next_day = moment + np.timedelta64(1, "D")
    shortly = earliest + rng.integers(600, 7200, size=earliest.size).astype("timedelta64[s]")
    fallback = np.where(next_day < end, next_day, np.minimum(shortly, end - np.timedelta64(1, "s")))
    return np.where(moment <= earliest, fallback, moment)


def generate_reviews(rng: np.random.Generator, timeline: Timeline, dates: StoryDates,
                     tickets: pd.DataFrame, skill: np.ndarray,
                     bias: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(qa_reviews, qa_ratings) frames in export column order."""
    rows, reviewed = _pick_reviews(rng, timeline, tickets)
    n = rows.size
    picked = tickets.iloc[rows]
    auditor_load = rng.lognormal(0.0, 0.15, size=len(staff.AUDITORS))
    auditor_code = rng.choice(len(staff.AUDITORS), size=n, p=auditor_load / auditor_load.sum())
    auditor = np.array(staff.AUDITORS, dtype=object)[auditor_code]
    created = picked["created"].to_numpy()
    queue = picked["queue"].to_numpy()
    queue_code = picked["queue_code"].to_numpy()
    drifting = (auditor_code == staff.AUDITORS.index(staff.DRIFTING_AUDITOR)) & (
        reviewed >= dates.drift_start
    )
    coached = (queue_code == catalog.QUEUE_NAMES.index("Onboarding")) & (
        created >= dates.coaching_start
    )
    # One latent quality per review, shared by its categories, so ratings correlate.
    quality = (
        skill[rows]
        + COACHING_LIFT * coached
        + np.array([bias[a] for a in staff.AUDITORS])[auditor_code]
        + DRIFT_LENIENCY * drifting
        + 0.45 * rng.standard_normal(n)
    )
    extra = correct_information_extra(timeline, dates, created, queue_code)
    replies = picked["agent_replies"].to_numpy()
    escalated = picked["escalated"].to_numpy() == 1
    ratings = []
    for category in catalog.SCORECARD:
        ratings.append(rate_category(rng, category, quality, extra, replies, escalated))

    ids = sequential_ids("R", n, 6)
    reviews = object_frame({
        "review_id": ids,
        "ticket_id": picked["ticket_id"].to_numpy(),
        "reviewed_at": as_text(reviewed),
        "auditor_id": auditor,
        "agent_id": picked["agent_id"].to_numpy(),
        "queue": queue,
        "channel": picked["channel"].to_numpy(),
        "scorecard": catalog.SCORECARD_NAME,
    })
    k = len(catalog.SCORECARD)
    rating = np.stack(ratings, axis=1).reshape(-1)  # review-major, category order
    ratings_frame = object_frame({
        "review_id": np.repeat(ids, k),
        "category": np.tile(np.array([c.name for c in catalog.SCORECARD], dtype=object), n),
        "weight": np.tile([c.weight for c in catalog.SCORECARD], n),
        "critical": np.tile([int(c.critical) for c in catalog.SCORECARD], n),
        "rating": pd.array(rating, dtype="Int64"),
        "scale_min": np.tile([c.scale_min for c in catalog.SCORECARD], n),
        "scale_max": np.tile([c.scale_max for c in catalog.SCORECARD], n),
    })
    return reviews, ratings_frame


def correct_information_extra(timeline: Timeline, dates: StoryDates, created: np.ndarray,
                              queue_code: np.ndarray) -> np.ndarray:
    """Extra 'Correct information' defect log-odds of tickets created at ``created``."""
    ramp_span = (timeline.snapshot - dates.defects_ramp_start).astype("float64")
    # convex: the outdated article spreads slowly, then the defects take off in the last month
    ramp = np.clip((created - dates.defects_ramp_start).astype("float64") / ramp_span, 0.0, 1.0) ** 3
    ramp_size = by_code(queue_code, catalog.QUEUE_NAMES, {
        name: DEFECT_RAMP.get(name, DEFECT_RAMP_ELSEWHERE) for name in catalog.QUEUE_NAMES
    })
    return ramp * ramp_size


def rate_category(rng: np.random.Generator, category: catalog.Category, quality: np.ndarray,
                  extra_defects: np.ndarray, replies: np.ndarray,
                  escalated: np.ndarray) -> np.ndarray:
    """One category's ratings (float, NaN = N/A) for every review."""
    n = quality.size
    defect_logit = logit(category.defect_rate) - quality
    if category.name == "Correct information":
        defect_logit = defect_logit + extra_defects
    if category.critical:
        # Data-protection failures are rare and only loosely tied to general quality.
        rating = np.where(rng.random(n) < sigmoid(logit(category.defect_rate) - 0.5 * quality),
                          0.0, 1.0)
    else:
        defect = rng.random(n) < sigmoid(defect_logit)
        top = rng.random(n) < sigmoid(logit(0.62) + quality)
        low = np.where(rng.random(n) < 0.3, 1.0, 2.0)
        rating = np.where(defect, low, np.where(top, 4.0, 3.0))
    na_rate = np.full(n, category.na_rate)
    if category.name == "Empathy":  # simple one-touch tickets give nothing to empathise with
        na_rate = np.where(replies <= 1, 0.19, 0.04)
    elif category.name == "Resolution":  # handed on, so not this agent's to resolve
        na_rate = np.where(escalated, 0.6, 0.02)
    return np.where(rng.random(n) < na_rate, np.nan, rating)
