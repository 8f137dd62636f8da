"""Contact volume from before the demo's span: the helpdesk the team used until then.

The previous helpdesk's export kept little of each contact: ``contact_archive`` holds one row
per contact of the ``ARCHIVE_MONTHS`` months before the span, with its month, queue and
contact reason.  They follow the demo's own volume model (``timeline.Timeline.daily_volume``: the
same weekday, seasonal and holiday shape and the same tickets per day), split by queue and
reason as the span's tickets were before the refund-policy change.  With the span's own
tickets that makes three years of history, the seasonal baseline against which Billing's
refund and cancellation contacts of the last month stand out (story
``billing_refund_contacts_unusual``).

``contact_archive``: ``contact_id`` (``C0000001``...), ``month`` (its first day,
``YYYY-MM-DD``), ``queue`` and ``contact_reason``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from reportgen.demo.columns import object_frame, sequential_ids
from reportgen.demo.stories import StoryDates
from reportgen.demo.tickets import TICKETS_PER_DAY
from reportgen.demo.timeline import Timeline, day_text
from reportgen.period import Period

ARCHIVE_MONTHS = 23  # with the span's 13 months, three years


def generate_archive(rng: np.random.Generator, timeline: Timeline, dates: StoryDates,
                     tickets: pd.DataFrame) -> pd.DataFrame:
    """``contact_archive`` in export column order, month by month."""
    first = Period(date.fromisoformat(str(timeline.month_starts[0])), "month")
    before = Timeline(first.previous().start, ARCHIVE_MONTHS)
    days, expected = before.daily_volume(TICKETS_PER_DAY)
    month = days.astype("datetime64[M]")
    starts = before.month_starts[:-1].astype("datetime64[M]")
    per_month = np.array([expected[month == m].sum() for m in starts])

    # how the span's tickets divide among queues and reasons, before the policy change
    usual = tickets.loc[tickets["created"].to_numpy() < dates.refund_policy_change]
    mix = usual.groupby(["queue", "contact_reason"], sort=True).size()
    share = (mix / mix.sum()).to_numpy()
    counts = rng.poisson(np.outer(per_month, share)).reshape(-1)  # months x (queue, reason)
    queues = np.tile(mix.index.get_level_values(0).to_numpy(dtype=object), starts.size)
    reasons = np.tile(mix.index.get_level_values(1).to_numpy(dtype=object), starts.size)
    months = np.repeat(day_text(starts.astype("datetime64[D]")), share.size)
    return object_frame({
        "contact_id": sequential_ids("C", int(counts.sum()), 7),
        "month": np.repeat(months, counts),
        "queue": np.repeat(queues, counts),
        "contact_reason": np.repeat(reasons, counts),
    })
