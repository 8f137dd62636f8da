"""Calibration sessions: every auditor and the calibrator score the same tickets blind.

Two sessions a month (second and fourth Wednesday), 8-10 solved tickets each.  Raters
score the graded 1-4 categories; about 3% of ratings are missing (NULL).  A rater's
``review_score`` for a ticket is the weighted mean of ``(rating - 1) / 3`` over the
categories they rated, times 100.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from reportgen.demo import catalog, staff
from reportgen.demo.columns import object_frame
from reportgen.demo.stories import StoryDates
from reportgen.demo.timeline import Timeline

MISSING_RATE = 0.03
CUTPOINTS = np.array([-1.35, -0.55, 0.45])  # latent -> 1..4
DRIFT_LENIENCY = 0.42  # AU07's latent shift in the drift months
RATER_NOISE = 0.3


def session_dates(timeline: Timeline) -> list[date]:
    """The second and fourth Wednesday of every month in the span."""
    out: list[date] = []
    for start in timeline.month_starts[:-1].astype(object):
        first_wednesday = start + timedelta(days=(2 - start.weekday()) % 7)
        out += [first_wednesday + timedelta(days=7), first_wednesday + timedelta(days=21)]
    return out


def _spread(values: np.ndarray, axis: int, shape: tuple[int, int, int]) -> np.ndarray:
    """Repeat a 1-D array along the other axes of ``shape`` and flatten (C order)."""
    index: list[slice | None] = [None, None, None]
    index[axis] = slice(None)
    return np.broadcast_to(values[tuple(index)], shape).reshape(-1)


def generate_calibration(rng: np.random.Generator, timeline: Timeline, dates: StoryDates,
                         tickets: pd.DataFrame,
                         bias: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(calibration_scores, calibration_reviews) frames in export column order."""
    raters = np.array([*staff.AUDITORS, staff.CALIBRATOR], dtype=object)
    roles = np.array(["auditor"] * len(staff.AUDITORS) + ["calibrator"], dtype=object)
    # Stable habits of each auditor, on the latent scale; the calibrator is the reference.
    base_bias = np.array([*(0.8 * bias[a] for a in staff.AUDITORS), 0.0])
    categories = catalog.CALIBRATION_CATEGORIES
    weights = np.array([c.weight for c in categories])
    category_ease = rng.normal(0.0, 0.25, size=len(categories))

    solved = tickets["solved"].to_numpy()
    used = np.zeros(len(tickets), dtype=bool)
    score_parts: list[pd.DataFrame] = []
    review_parts: list[pd.DataFrame] = []
    for number, day in enumerate(session_dates(timeline)):
        when = np.datetime64(day.isoformat(), "s")
        pool = np.flatnonzero(~used & (solved < when) & (solved >= when - np.timedelta64(21, "D")))
        if pool.size < 10:  # the very first days of the span have too few solved tickets
            pool = np.flatnonzero(~used & (solved < when))
        count = min(int(rng.integers(8, 11)), pool.size)
        if count == 0:
            continue
        chosen = np.sort(rng.choice(pool, size=count, replace=False))
        used[chosen] = True
        leniency = base_bias.copy()
        if when >= dates.drift_start:
            leniency[raters == staff.DRIFTING_AUDITOR] += DRIFT_LENIENCY
        # ticket x rater x category latent: the ticket's truth plus each rater's view of it.
        truth = (0.55 + 0.6 * rng.standard_normal((count, 1, 1))
                 + 0.5 * rng.standard_normal((count, 1, len(categories))) + category_ease)
        latent = truth + leniency[None, :, None] + RATER_NOISE * rng.standard_normal(
            (count, raters.size, len(categories))
        )
        rating = 1.0 + (latent[..., None] > CUTPOINTS).sum(axis=-1)
        rating[rng.random(rating.shape) < MISSING_RATE] = np.nan
        rated = ~np.isnan(rating)
        score = (np.nansum((rating - 1.0) / 3.0 * weights, axis=-1)
                 / np.maximum((rated * weights).sum(axis=-1), 1e-9) * 100.0)

        session_id = f"CAL-{day:%Y-%m}-{number % 2 + 1}"
        ticket_ids = tickets["ticket_id"].to_numpy()[chosen]
        shape = (count, raters.size, len(categories))
        names = np.array([c.name for c in categories], dtype=object)

        score_parts.append(object_frame({
            "session_id": session_id,
            "session_date": day.isoformat(),
            "ticket_id": _spread(ticket_ids, 0, shape),
            "rater_id": _spread(raters, 1, shape),
            "role": _spread(roles, 1, shape),
            "category": _spread(names, 2, shape),
            "rating": pd.array(rating.reshape(-1), dtype="Int64"),
        }))
        review_parts.append(object_frame({
            "session_id": session_id,
            "session_date": day.isoformat(),
            "ticket_id": np.repeat(ticket_ids, raters.size),
            "rater_id": np.tile(raters, count),
            "role": np.tile(roles, count),
            "review_score": np.round(score.reshape(-1), 1),
        }))
    return (pd.concat(score_parts, ignore_index=True),
            pd.concat(review_parts, ignore_index=True))
