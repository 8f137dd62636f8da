"""The people of the demo world: agents, auditors, moderators and customers (all fake)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.demo import catalog

AUDITORS: tuple[str, ...] = tuple(f"AU{i:02d}" for i in range(1, 13))
CALIBRATOR = "CAL1"
DRIFTING_AUDITOR = "AU07"
MODERATORS: tuple[str, ...] = tuple(f"M{i:02d}" for i in range(1, 26))
WEAK_AGENTS = 5


@dataclass(frozen=True)
class Agents:
    """Agent attributes as parallel arrays indexed by agent number."""

    ids: np.ndarray
    names: np.ndarray
    queues: np.ndarray
    sites: np.ndarray
    site_codes: np.ndarray  # index into catalog.SITES
    skill: np.ndarray  # logit-scale quality effect; weak agents are clearly negative
    capacity: np.ndarray  # relative share of their queue's tickets

    def by_queue(self, queue: str) -> np.ndarray:
        return np.flatnonzero(self.queues == queue)


def make_agents(rng: np.random.Generator) -> Agents:
    """About 80 agents spread over queues and sites, a few of them clearly weak."""
    queues: list[str] = []
    sites: list[int] = []
    for queue, count in catalog.QUEUE_AGENTS.items():
        offset = int(rng.integers(0, len(catalog.SITES)))
        queues += [queue] * count
        sites += [(offset + k) % len(catalog.SITES) for k in range(count)]
    n = len(queues)
    order = rng.permutation(n)  # so that agent numbers do not cluster by queue
    skill = rng.normal(0.0, 0.22, size=n)
    weak = rng.choice(n, size=WEAK_AGENTS, replace=False)
    skill[weak] -= 0.9
    combos = rng.choice(len(catalog.FIRST_NAMES) * len(catalog.LAST_NAMES), size=n, replace=False)
    first = np.array(catalog.FIRST_NAMES)[combos // len(catalog.LAST_NAMES)]
    last = np.array(catalog.LAST_NAMES)[combos % len(catalog.LAST_NAMES)]
    return Agents(
        ids=np.array([f"A{i:03d}" for i in range(1, n + 1)], dtype=object),
        names=np.char.add(np.char.add(first, " "), last).astype(object),
        queues=np.array(queues, dtype=object)[order],
        sites=np.array(catalog.SITES, dtype=object)[np.array(sites)[order]],
        site_codes=np.array(sites)[order],
        skill=skill,
        capacity=rng.lognormal(0.0, 0.25, size=n),
    )


@dataclass(frozen=True)
class Customers:
    """A pool of fake customers; some contact support many times."""

    names: np.ndarray
    emails: np.ndarray
    weights: np.ndarray


def make_customers(rng: np.random.Generator, size: int = 30_000) -> Customers:
    first = np.array(catalog.FIRST_NAMES)[rng.integers(0, len(catalog.FIRST_NAMES), size)]
    last = np.array(catalog.LAST_NAMES)[rng.integers(0, len(catalog.LAST_NAMES), size)]
    domain = np.array(catalog.EMAIL_DOMAINS)[rng.integers(0, len(catalog.EMAIL_DOMAINS), size)]
    number = rng.integers(1, 1000, size).astype(str)
    local = np.char.lower(np.char.add(np.char.add(np.char.add(first, "."), last), number))
    emails = np.char.add(np.char.add(local, "@"), domain)
    # A long tail of repeat contacts: a few customers write in again and again.
    weights = 1.0 / (np.arange(size) + 50.0) ** 0.7
    return Customers(
        names=np.char.add(np.char.add(first, " "), last).astype(object),
        emails=emails.astype(object),
        weights=weights / weights.sum(),
    )


@dataclass(frozen=True)
class Staff:
    """Everyone in the demo world, drawn once so every table sees the same people."""

    agents: Agents
    customers: Customers
    auditor_bias: dict[str, float]
    moderator_accuracy: np.ndarray


def make_staff(rng: np.random.Generator) -> Staff:
    return Staff(make_agents(rng), make_customers(rng), auditor_bias(rng), moderator_accuracy(rng))


def auditor_bias(rng: np.random.Generator) -> dict[str, float]:
    """Stable, small leniency (+) or strictness (-) of each auditor, logit scale."""
    bias = rng.normal(0.0, 0.08, size=len(AUDITORS))
    out = dict(zip(AUDITORS, bias.tolist(), strict=True))
    out[DRIFTING_AUDITOR] = 0.0  # calibrated until the drift starts
    return out


def moderator_accuracy(rng: np.random.Generator) -> np.ndarray:
    """Probability each moderator's action matches the QA gold label."""
    return np.clip(rng.normal(0.91, 0.03, size=len(MODERATORS)), 0.82, 0.97)
