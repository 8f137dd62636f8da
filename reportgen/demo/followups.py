"""Whether the customer came back within 7 days of a solve, for every solved ticket.

A re-contact is the customer getting back in touch about the same issue within 7 days of
the solve, by any route: a reply that reopens the ticket (every reopened ticket is one), a
new ticket or a call.  It follows how the ticket was handled (``unreviewed.ticket_ratings``):
after a 'Resolution' defect about 45% of customers come back (13% otherwise), after a
'Correct information' defect about 27% (15%); the other rubric items do not move it (story
``resolution_predicts_recontact``).

``ticket_followups``: ``ticket_id``, ``solved_at`` and ``recontacted_7d`` (1/0; NULL while
the 7 days after the solve have not passed by the snapshot).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo import catalog
from reportgen.demo.columns import logit, object_frame, sigmoid
from reportgen.demo.timeline import Timeline, as_text

BASE_RATE = 0.06  # re-contacts of tickets handled without a defect
#: extra log-odds of a re-contact when the category was rated a defect
DEFECT_LOG_ODDS = {"Resolution": 2.2, "Correct information": 1.1}
WINDOW = np.timedelta64(7, "D")


def generate_followups(rng: np.random.Generator, timeline: Timeline, tickets: pd.DataFrame,
                       rows: np.ndarray, ratings: np.ndarray) -> pd.DataFrame:
    """``ticket_followups`` in export column order (the solved tickets in ticket order)."""
    odds = np.full(rows.size, logit(BASE_RATE))
    for k, category in enumerate(catalog.SCORECARD):
        if category.name in DEFECT_LOG_ODDS:
            midpoint = category.scale_min + (category.scale_max - category.scale_min) / 2
            defect = np.nan_to_num(ratings[:, k], nan=category.scale_max) <= midpoint
            odds = odds + DEFECT_LOG_ODDS[category.name] * defect
    reopened = tickets["reopened"].to_numpy()[rows] == 1
    came_back = reopened | (rng.random(rows.size) < sigmoid(odds))
    solved = tickets["solved"].to_numpy()[rows]
    known = solved + WINDOW <= timeline.snapshot
    return object_frame({
        "ticket_id": tickets["ticket_id"].to_numpy()[rows],
        "solved_at": as_text(solved),
        "recontacted_7d": pd.array(np.where(known, came_back.astype(float), np.nan),
                                   dtype="Int64"),
    })
