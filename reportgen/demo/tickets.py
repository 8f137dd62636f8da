"""Support tickets: arrival, routing, first reply, resolution and survey sending."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.demo import catalog
from reportgen.demo.columns import by_code, logit, names_of, object_frame, sequential_ids, sigmoid
from reportgen.demo.staff import Agents, Customers
from reportgen.demo.stories import StoryDates
from reportgen.demo.timeline import Timeline, hours, minutes

TICKETS_PER_DAY = 158.0
CHAT_SHARE_START, CHAT_SHARE_END = 0.25, 0.40
QUEUES = catalog.QUEUE_NAMES
CHANNELS = catalog.CHANNELS
CHAT = CHANNELS.index("chat")
PRIORITIES = catalog.PRIORITIES


def chat_share(timeline: Timeline, dates: StoryDates, created: np.ndarray) -> np.ndarray:
    """Chat's share of new tickets at each instant: a steady climb over the year."""
    span = (timeline.snapshot - dates.chat_ramp_start).astype("float64")
    progress = np.clip((created - dates.chat_ramp_start).astype("float64") / span, 0.0, 1.0)
    return CHAT_SHARE_START + (CHAT_SHARE_END - CHAT_SHARE_START) * progress


def _channels(rng: np.random.Generator, share: np.ndarray) -> np.ndarray:
    split = np.array([catalog.NON_CHAT_SPLIT.get(c, 0.0) for c in CHANNELS])
    channel = rng.choice(len(CHANNELS), size=share.size, p=split / split.sum())
    channel[rng.random(share.size) < share] = CHAT
    return channel


def _draw(rng: np.random.Generator, options: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return options[rng.choice(options.size, size=size, p=weights / weights.sum())]


def _reasons(rng: np.random.Generator, queue: np.ndarray, refund_era: np.ndarray) -> np.ndarray:
    """Contact reasons: a skewed (pareto-like) mix per queue; refunds surge in Billing."""
    reason = np.empty(queue.size, dtype=object)
    for code, name in enumerate(QUEUES):
        options = np.array(catalog.REASONS[catalog.QUEUE_FAMILY[name]], dtype=object)
        rows = np.flatnonzero(queue == code)
        if name != "Billing":
            weights = 1.0 / (rng.permutation(options.size) + 1.0) ** 0.9
            reason[rows] = _draw(rng, options, weights, rows.size)
            continue
        # Billing keeps the catalogue's order, refunds first, so its story does not depend
        # on how the dice ranked its reasons.
        weights = 1.0 / (np.arange(options.size) + 1.0) ** 0.9
        refundish = np.isin(options, catalog.REFUND_REASONS)
        late = refund_era[rows]
        reason[rows[~late]] = _draw(rng, options, weights, int((~late).sum()))
        # The stricter policy sends more customers to ask about refunds and cancellations.
        reason[rows[late]] = _draw(rng, options, weights * np.where(refundish, 1.8, 1.0),
                                   int(late.sum()))
    return reason


def _assign_agents(rng: np.random.Generator, queue: np.ndarray, agents: Agents) -> np.ndarray:
    agent = np.empty(queue.size, dtype=np.int64)
    for code, name in enumerate(QUEUES):
        rows = np.flatnonzero(queue == code)
        pool = agents.by_queue(name)
        weights = agents.capacity[pool]
        agent[rows] = pool[rng.choice(pool.size, size=rows.size, p=weights / weights.sum())]
    return agent


def _priorities(rng: np.random.Generator, queue: np.ndarray) -> np.ndarray:
    enterprise = queue == QUEUES.index("Enterprise")  # contracts buy urgency
    shares = np.where(enterprise[:, None], [0.08, 0.50, 0.28, 0.14], catalog.PRIORITY_SHARES)
    return (rng.random(queue.size)[:, None] > np.cumsum(shares, axis=1)[:, :-1]).sum(axis=1)


def generate_tickets(rng: np.random.Generator, timeline: Timeline, dates: StoryDates,
                     agents: Agents, customers: Customers) -> pd.DataFrame:
    """Working ticket frame: export columns, datetime64 times, agent index and codes."""
    created = timeline.sample_instants(rng, TICKETS_PER_DAY)
    n = created.size
    queue = rng.choice(len(QUEUES), size=n, p=np.array(catalog.QUEUE_SHARES))
    channel = _channels(rng, chat_share(timeline, dates, created))
    agent = _assign_agents(rng, queue, agents)
    skill = agents.skill[agent]
    customer = rng.choice(customers.names.size, size=n, p=customers.weights)
    billing = queue == QUEUES.index("Billing")
    reason = _reasons(rng, queue, billing & (created >= dates.refund_policy_change))
    priority = _priorities(rng, queue)
    targets = np.array([[catalog.SLA_TARGET_MINUTES[c][p] for p in PRIORITIES] for c in CHANNELS])
    target = targets[channel, priority]

    # First reply: lognormal around a fraction of the target; weekends and the peak season
    # stretch the queue, which is where real SLA misses come from.
    weekday = (created.astype("datetime64[D]").astype("int64") + 3) % 7
    month = created.astype("datetime64[M]").astype("int64") % 12
    load = np.where(weekday >= 5, 1.45, 1.0) * np.where(month >= 10, 1.2, 1.0)
    shape = np.array([catalog.FIRST_RESPONSE_SHAPE[c] for c in CHANNELS])
    ratio, sigma = shape[channel, 0], shape[channel, 1]
    first_response = np.round(
        target * ratio * load * np.exp(sigma * rng.standard_normal(n) - 0.15 * skill), 2
    )

    one_touch_rate = np.array([logit(catalog.ONE_TOUCH_RATE[c]) for c in CHANNELS])[channel]
    complex_queue = np.isin(queue, [QUEUES.index("Technical Support"), QUEUES.index("Enterprise")])
    one_touch = sigmoid(one_touch_rate + 0.5 * skill - 0.4 * complex_queue)
    replies = np.where(rng.random(n) < one_touch, 1, 1 + rng.geometric(0.5, n))

    resolution = np.round(
        first_response / 60.0
        + by_code(channel, CHANNELS, catalog.RESOLUTION_MEDIAN_HOURS)
        * by_code(queue, QUEUES, catalog.QUEUE_RESOLUTION_FACTOR)
        * (1.0 + 0.7 * (replies - 1))
        * np.exp(1.0 * rng.standard_normal(n) - 0.2 * skill),
        2,
    )
    # Rounding must not put the solve before the first reply.
    resolution = np.maximum(resolution, np.ceil(first_response / 60.0 * 100.0) / 100.0)
    handle = np.round(
        by_code(channel, CHANNELS, catalog.HANDLE_MEDIAN_MINUTES) * (1.0 + 0.5 * (replies - 1))
        * np.exp(0.45 * rng.standard_normal(n) - 0.25 * skill),
        1,
    )

    # What has happened by the time the data is extracted.
    replied = created + minutes(first_response) < timeline.snapshot
    solved_at = created + hours(resolution)
    solved = solved_at < timeline.snapshot
    pending = ~solved & replied & (rng.random(n) < 0.6)
    status = np.where(solved, "solved", np.where(pending, "pending", "open")).astype(object)

    tech = queue == QUEUES.index("Technical Support")
    reopened = solved & (rng.random(n) < 0.05 * np.exp(-1.2 * skill) * np.where(tech, 1.3, 1.0))
    escalation = (by_code(queue, QUEUES, catalog.QUEUE_ESCALATION_RATE)
                  * np.array([0.7, 1.0, 1.4, 2.0])[priority] * np.exp(-0.5 * skill))
    escalated = rng.random(n) < escalation
    survey_p = by_code(channel, CHANNELS, catalog.SURVEY_RATE) * np.where(
        queue == QUEUES.index("Trust & Safety"), 0.5, 1.0
    )
    survey_sent = solved & (rng.random(n) < survey_p)
    sla_met = pd.array(np.where(replied, first_response <= target, np.nan), dtype="Int64")

    return object_frame({
        "ticket_id": sequential_ids("T", n, 7),
        "created": created,
        "solved": np.where(solved, solved_at, np.datetime64("NaT")),
        "status": status,
        "queue": names_of(queue, QUEUES),
        "channel": names_of(channel, CHANNELS),
        "site": agents.sites[agent],
        "agent_id": agents.ids[agent],
        "agent_name": agents.names[agent],
        "customer_name": customers.names[customer],
        "customer_email": customers.emails[customer],
        "contact_reason": reason,
        "priority": names_of(priority, PRIORITIES),
        "first_response_minutes": np.where(replied, first_response, np.nan),
        "sla_target_minutes": target.astype(np.int64),
        "sla_met": sla_met,
        "resolution_hours": np.where(solved, resolution, np.nan),
        "handle_minutes": np.where(replied, handle, np.nan),
        "agent_replies": np.where(replied, replies, 0),
        "reopened": reopened.astype(np.int64),
        "escalated": escalated.astype(np.int64),
        "survey_sent": survey_sent.astype(np.int64),
        # Working columns, not exported.
        "agent_idx": agent,
        "queue_code": queue,
        "channel_code": channel,
        "site_code": agents.site_codes[agent],
        "refund_contact": np.isin(reason, catalog.REFUND_REASONS),
    })
