"""CSAT survey responses: who answers, how they rate (J-shaped), NPS, effort and comments.

``rating`` is 1-5 (CSAT counts 4-5 as satisfied).  Half of the surveys are the variant that
asks NPS (``nps_score`` 0-10) and the other half the one that asks effort (``effort_score``,
CES 1-7 where 7 means "it was very easy"), so each is NULL for about half the responses.
Some comments carry an email address or phone number, as real free text does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo import catalog
from reportgen.demo.columns import by_code, object_frame, sequential_ids, sigmoid
from reportgen.demo.stories import StoryDates
from reportgen.demo.timeline import Timeline, as_text, hours

SITE_CSAT_OFFSET = {"Lisbon": 0.05, "Manila": 0.0, "Austin": -0.05}
# Billing after the refund-policy change: refund contacts sour badly, the rest a little.
REFUND_CONTACT_HIT, OTHER_BILLING_HIT = -1.4, -0.45
COMMENT_RATE = np.array([0.0, 0.55, 0.50, 0.40, 0.24, 0.20])  # by rating 1..5
PII_SHARE = 0.05
# Share of unhappy commenters mentioning the refund policy after the change: refund contacts
# and other Billing contacts.
REFUND_MENTION, BILLING_MENTION = 0.9, 0.6


def satisfaction_logit(tickets: pd.DataFrame, skill: np.ndarray, dates: StoryDates) -> np.ndarray:
    """Log-odds that a responding customer is satisfied (rates 4 or 5)."""
    sla_missed = tickets["sla_met"].fillna(1).to_numpy(int) == 0
    logit = (
        by_code(tickets["channel_code"].to_numpy(), catalog.CHANNELS, catalog.CHANNEL_CSAT_LOGIT)
        + by_code(tickets["queue_code"].to_numpy(), catalog.QUEUE_NAMES, catalog.QUEUE_CSAT_OFFSET)
        + by_code(tickets["site_code"].to_numpy(), catalog.SITES, SITE_CSAT_OFFSET)
        + 0.9 * skill
        - 1.1 * tickets["reopened"].to_numpy()
        - 0.6 * tickets["escalated"].to_numpy()
        - 0.35 * sla_missed
        - 0.12 * (tickets["agent_replies"].to_numpy() - 1)
    )
    after = _billing_after_change(tickets, dates)
    refund = tickets["refund_contact"].to_numpy()
    return logit + after * np.where(refund, REFUND_CONTACT_HIT, OTHER_BILLING_HIT)


def _billing_after_change(tickets: pd.DataFrame, dates: StoryDates) -> np.ndarray:
    billing = tickets["queue_code"].to_numpy() == catalog.QUEUE_NAMES.index("Billing")
    return billing & (tickets["created"].to_numpy() >= dates.refund_policy_change)


def _ratings(rng: np.random.Generator, satisfied: np.ndarray) -> np.ndarray:
    """J-shape: mostly 5s, some 4s, and the unhappy cluster at 1 rather than 3."""
    happy = np.where(rng.random(satisfied.size) < 0.72, 5, 4)
    unhappy = np.array([1, 2, 3])[rng.choice(3, size=satisfied.size, p=[0.47, 0.21, 0.32])]
    return np.where(satisfied, happy, unhappy)


def _comments(rng: np.random.Generator, rating: np.ndarray, refund_hit: np.ndarray,
              billing_hit: np.ndarray, email: np.ndarray) -> np.ndarray:
    n = rating.size
    comment = np.full(n, None, dtype=object)
    has = rng.random(n) < COMMENT_RATE[rating]
    pools = {
        "positive": (rating >= 4, catalog.POSITIVE_COMMENTS),
        "neutral": (rating == 3, catalog.NEUTRAL_COMMENTS),
        "negative": (rating <= 2, catalog.NEGATIVE_COMMENTS),
    }
    for mask, texts in pools.values():
        rows = np.flatnonzero(has & mask)
        comment[rows] = np.array(texts, dtype=object)[rng.integers(0, len(texts), rows.size)]
    # Unhappy Billing customers after the change mostly write about the refund policy.
    mention = np.where(refund_hit, REFUND_MENTION, np.where(billing_hit, BILLING_MENTION, 0.0))
    policy = np.flatnonzero(has & (rating <= 3) & (rng.random(n) < mention))
    policy_texts = np.array(catalog.REFUND_POLICY_COMMENTS, dtype=object)
    comment[policy] = policy_texts[rng.integers(0, policy_texts.size, policy.size)]

    pii = np.flatnonzero(has & (rng.random(n) < PII_SHARE))
    phones = np.array([f"+1 512 555 {k:04d}" for k in range(100, 200)]
                      + [f"+351 912 555 {k:03d}" for k in range(100, 200)], dtype=object)
    phone = phones[rng.integers(0, phones.size, pii.size)]
    template = np.array(catalog.PII_COMMENT_TEMPLATES, dtype=object)[
        rng.integers(0, len(catalog.PII_COMMENT_TEMPLATES), pii.size)
    ]
    extra = [t.format(email=e, phone=p) for t, e, p in zip(template, email[pii], phone, strict=True)]
    comment[pii] = (pd.Series(comment[pii], dtype=object) + " "
                    + pd.Series(extra, dtype=object)).to_numpy()
    return comment


def generate_responses(rng: np.random.Generator, timeline: Timeline, dates: StoryDates,
                       tickets: pd.DataFrame, skill: np.ndarray) -> pd.DataFrame:
    """CSAT responses for surveyed tickets, in ``csat_responses`` column order."""
    surveyed = tickets["survey_sent"].to_numpy() == 1
    channel = tickets["channel_code"].to_numpy()
    # Customers answer surveys about their money more readily.
    billing = tickets["queue_code"].to_numpy() == catalog.QUEUE_NAMES.index("Billing")
    response_rate = by_code(channel, catalog.CHANNELS, catalog.RESPONSE_RATE) * np.where(
        billing, 1.4, 1.0
    )
    answers = surveyed & (rng.random(len(tickets)) < response_rate)
    delay = np.round(np.exp(np.log(4.0) + 1.2 * rng.standard_normal(len(tickets))) * 3600) / 3600
    responded = tickets["solved"].to_numpy() + hours(np.maximum(delay, 0.02))
    keep = np.flatnonzero(answers & (responded < timeline.snapshot))
    keep = keep[np.argsort(responded[keep], kind="stable")]

    picked = tickets.iloc[keep]
    logit = satisfaction_logit(picked, skill[keep], dates)
    satisfied = rng.random(keep.size) < sigmoid(logit)
    rating = _ratings(rng, satisfied)
    replies = picked["agent_replies"].to_numpy()

    asks_nps = rng.random(keep.size) < 0.5
    nps_mean = np.array([0.0, 2.0, 4.2, 6.6, 8.3, 9.4])[rating]
    nps = np.clip(np.round(nps_mean + 1.1 * rng.standard_normal(keep.size)), 0, 10)
    effort_mean = np.array([0.0, 2.4, 3.1, 4.3, 5.6, 6.4])[rating] - 0.25 * (replies - 1)
    effort = np.clip(np.round(effort_mean + 0.9 * rng.standard_normal(keep.size)), 1, 7)

    billing_hit = _billing_after_change(picked, dates)
    refund_hit = billing_hit & picked["refund_contact"].to_numpy()
    return object_frame({
        "response_id": sequential_ids("S", keep.size, 7),
        "ticket_id": picked["ticket_id"].to_numpy(),
        "responded_at": as_text(responded[keep]),
        "queue": picked["queue"].to_numpy(),
        "channel": picked["channel"].to_numpy(),
        "site": picked["site"].to_numpy(),
        "agent_id": picked["agent_id"].to_numpy(),
        "rating": rating.astype(np.int64),
        "nps_score": pd.array(np.where(asks_nps, nps, np.nan), dtype="Int64"),
        "effort_score": pd.array(np.where(asks_nps, np.nan, effort), dtype="Int64"),
        "comment": _comments(rng, rating, refund_hit, billing_hit,
                             picked["customer_email"].to_numpy()),
    })
