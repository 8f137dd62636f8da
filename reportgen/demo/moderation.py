"""Content-moderation decisions, their QA gold labels (a ~10% sample) and appeals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo import catalog, staff
from reportgen.demo.columns import by_code, object_frame, sequential_ids
from reportgen.demo.stories import StoryDates
from reportgen.demo.timeline import CONTACT_HOURS, Timeline, as_text

DECISIONS_PER_DAY = 62.0
GOLD_SAMPLE = 0.10
HARASSMENT_OVERTURN_FACTOR = 2.25


def generate_decisions(rng: np.random.Generator, timeline: Timeline,
                       dates: StoryDates, accuracy: np.ndarray) -> pd.DataFrame:
    """The ``moderation_decisions`` frame in export column order."""
    # Moderation runs around the clock, so its day is flatter than customer contact.
    decided = timeline.sample_instants(rng, DECISIONS_PER_DAY, hours=np.sqrt(CONTACT_HOURS),
                                       holidays=False)
    n = decided.size
    areas = catalog.POLICY_AREAS
    policy_index = rng.choice(len(areas), size=n, p=np.array(catalog.POLICY_SHARES))
    load = rng.lognormal(0.0, 0.2, size=accuracy.size)
    moderator = rng.choice(accuracy.size, size=n, p=load / load.sum())

    mix = np.array([catalog.ACTION_MIX[p] for p in areas])
    cumulative = np.cumsum(mix[policy_index], axis=1)[:, :-1]
    action_index = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    actions = np.array(catalog.ACTIONS, dtype=object)
    action = actions[action_index]

    # The gold label agrees with the moderator at their accuracy, else it is another action.
    in_sample = rng.random(n) < GOLD_SAMPLE
    correct = rng.random(n) < accuracy[moderator]
    other = (action_index + rng.integers(1, len(catalog.ACTIONS), size=n)) % len(catalog.ACTIONS)
    gold = np.where(correct, action, actions[other])
    gold = np.where(in_sample, gold, np.array(None, dtype=object))

    actioned = action != "no_action"
    appealed = actioned & (rng.random(n) < by_code(policy_index, areas, catalog.APPEAL_RATE))
    overturn_p = by_code(policy_index, areas, catalog.OVERTURN_RATE) * (1.0 + 3.0 * (0.91 - accuracy[moderator]))
    spike = (policy_index == areas.index("harassment")) & (decided >= dates.overturn_month_start)
    overturn_p = np.where(spike, overturn_p * HARASSMENT_OVERTURN_FACTOR, overturn_p)
    overturned = appealed & (rng.random(n) < overturn_p)
    outcome = np.where(appealed, np.where(overturned, "overturned", "upheld"),
                       np.array(None, dtype=object))

    return object_frame({
        "decision_id": sequential_ids("D", n, 7),
        "decided_at": as_text(decided),
        "policy_area": np.array(areas, dtype=object)[policy_index],
        "moderator_id": np.array(staff.MODERATORS, dtype=object)[moderator],
        "action": action,
        "gold_action": gold.astype(object),
        "appealed": appealed.astype(np.int64),
        "appeal_outcome": outcome.astype(object),
        "overturned": overturned.astype(np.int64),
    })
