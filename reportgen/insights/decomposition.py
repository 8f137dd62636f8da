"""The split of a rate's change into mix (volume moving between segments) and rate.

An overall rate is the volume-weighted average of its segments' rates, ``R = sum(s_i r_i)``
with ``s_i`` a segment's share of the volume.  Its change splits exactly into

* mix:  ``sum((s1_i - s0_i) x (mean(r0_i, r1_i) - mean(R0, R1)))`` — volume moving towards
  segments above or below the overall level;
* rate: ``sum((r1_i - r0_i) x mean(s0_i, s1_i))`` — segments getting better or worse.

This is the symmetric (Shapley, or midpoint) split (``decompose``): neither period is
privileged, and mix + rate equals the total change exactly, because the shares sum to one in
both periods (so centring the mix term on the overall level moves no value between segments'
totals while making each segment's mix term say whether its growth pulled the rate up or
down).  A segment present in only one period has no rate on the other side; it is given the
same rate on both sides, so all of its effect is mix (it entered or left the mix).

A cross breakdown (queue x channel) is split over its factors by Shapley values
(``shapley_split``): each factor's own mix, how the factors combine, and the cells' rates,
exact and independent of the order the factors are listed in; with one factor constant it
is the split above.

Numbers in, numbers out: ``drivers`` finds the segments in a metric's breakdown rows and
writes the findings.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segment:
    """A segment's volume (weight) and summed outcome (total) in both periods."""

    label: str
    weight_now: float
    total_now: float
    weight_before: float
    total_before: float


@dataclass(frozen=True)
class Contribution:
    label: str
    mix: float
    rate: float
    share_now: float
    share_before: float
    value_now: float | None
    value_before: float | None

    @property
    def total(self) -> float:
        return self.mix + self.rate


@dataclass(frozen=True)
class Decomposition:
    """The change of the overall rate, split into mix and rate, with each segment's part."""

    now: float
    before: float
    mix: float
    rate: float
    contributions: tuple[Contribution, ...]

    @property
    def total(self) -> float:
        return self.now - self.before


def decompose(segments: Sequence[Segment]) -> Decomposition:
    """The symmetric mix/rate split of the change of ``sum(total) / sum(weight)``."""
    weight_now = sum(s.weight_now for s in segments)
    weight_before = sum(s.weight_before for s in segments)
    if weight_now <= 0 or weight_before <= 0:
        raise ValueError("both periods need some volume to split a change")
    now = sum(s.total_now for s in segments) / weight_now
    before = sum(s.total_before for s in segments) / weight_before
    centre = (now + before) / 2
    parts: list[Contribution] = []
    for s in segments:
        share_now, share_before = s.weight_now / weight_now, s.weight_before / weight_before
        rate_now = s.total_now / s.weight_now if s.weight_now > 0 else None
        rate_before = s.total_before / s.weight_before if s.weight_before > 0 else None
        if rate_now is None and rate_before is None:
            continue
        # An absent side takes the present side's rate: the segment's whole effect is mix.
        r1 = rate_now if rate_now is not None else rate_before
        r0 = rate_before if rate_before is not None else rate_now
        assert r1 is not None and r0 is not None
        parts.append(Contribution(
            label=s.label,
            mix=(share_now - share_before) * ((r1 + r0) / 2 - centre),
            rate=(r1 - r0) * (share_now + share_before) / 2,
            share_now=share_now, share_before=share_before,
            value_now=rate_now, value_before=rate_before))
    return Decomposition(now=now, before=before, mix=sum(p.mix for p in parts),
                         rate=sum(p.rate for p in parts), contributions=tuple(parts))


@dataclass(frozen=True)
class Cell:
    """A cell of a cross breakdown (one level per factor) in both periods."""

    key: tuple[str, ...]
    weight_now: float
    total_now: float
    weight_before: float
    total_before: float


@dataclass(frozen=True)
class FactorSplit:
    """A rate change split over several factors by Shapley values.

    ``mix[f]``: the shift of factor f's own distribution (its marginal); ``association``: the
    change in how the factors combine beyond their marginals (e.g. more chat *within* the
    billing queue); ``rate``: the cells' own rates.  ``cells`` holds each cell's part of the
    mix (all mix players together) and of the rate, so any factor's levels can be read off.
    """

    now: float
    before: float
    factors: tuple[str, ...]
    mix: dict[str, float]
    association: float
    rate: float
    cells: tuple[tuple[tuple[str, ...], float, float], ...]  # (key, mix part, rate part)

    @property
    def total(self) -> float:
        return self.now - self.before

    def by_level(self, factor: str) -> list[tuple[str, float, float]]:
        """(level, mix part, rate part) of each level of ``factor``, largest |total| first."""
        k = self.factors.index(factor)
        parts: dict[str, list[float]] = {}
        for key, mix, rate in self.cells:
            acc = parts.setdefault(key[k], [0.0, 0.0])
            acc[0] += mix
            acc[1] += rate
        return sorted(((level, m, r) for level, (m, r) in parts.items()),
                      key=lambda item: -abs(item[1] + item[2]))


def _raked(base: np.ndarray, keys: Sequence[tuple[str, ...]],
           margins: Sequence[dict[str, float]]) -> np.ndarray:
    """``base`` raked (iterative proportional fitting) to the factors' target ``margins``.

    Raking keeps the base's association between factors while giving each factor the target
    distribution.  A level the base never saw cannot be given mass; the weights are then
    renormalised, which leaves the function well defined (and exact at both ends, where the
    base already has the target margins).
    """
    weights = base.astype(float).copy()
    for _ in range(200):
        before = weights.copy()
        for k, target in enumerate(margins):
            levels = [key[k] for key in keys]
            current: dict[str, float] = {}
            for level, w in zip(levels, weights, strict=True):
                current[level] = current.get(level, 0.0) + w
            weights = np.array([w * target.get(level, 0.0) / current[level]
                                if current[level] > 0 else 0.0
                                for level, w in zip(levels, weights, strict=True)])
        if np.abs(weights - before).max() < 1e-13:
            break
    total = weights.sum()
    return weights / total if total > 0 else weights


def shapley_split(cells: Sequence[Cell], factors: Sequence[str]) -> FactorSplit:
    """Exact, order-independent split of the change of ``sum(total) / sum(weight)``.

    Players: each factor's marginal mix, the association between factors, and the cells'
    rates.  A coalition's value is the overall rate with the cells' rates of the current
    period if 'rate' is in it (else the previous), the joint mix of the current period if
    'association' is in it (else the previous), raked to each factor's current marginal if
    that factor is in it (else its previous).  The Shapley values sum to the change exactly
    (efficiency), do not depend on an order of factors, and with a single factor that varies
    they equal the symmetric two-factor split (``decompose``): the constant factors and the
    association are null players.
    """
    weight_now = sum(c.weight_now for c in cells)
    weight_before = sum(c.weight_before for c in cells)
    if weight_now <= 0 or weight_before <= 0:
        raise ValueError("both periods need some volume to split a change")
    keys = [c.key for c in cells]
    w1 = np.array([c.weight_now for c in cells]) / weight_now
    w0 = np.array([c.weight_before for c in cells]) / weight_before
    r1 = np.array([c.total_now / c.weight_now if c.weight_now > 0 else np.nan for c in cells])
    r0 = np.array([c.total_before / c.weight_before if c.weight_before > 0 else np.nan
                   for c in cells])
    # An absent side takes the present side's rate: the cell's whole effect is mix.
    r1, r0 = np.where(np.isnan(r1), r0, r1), np.where(np.isnan(r0), r1, r0)
    now, before = float(w1 @ r1), float(w0 @ r0)
    centre = (now + before) / 2

    def margins(w: np.ndarray) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for k in range(len(factors)):
            acc: dict[str, float] = {}
            for key, weight in zip(keys, w, strict=True):
                acc[key[k]] = acc.get(key[k], 0.0) + float(weight)
            out.append(acc)
        return out

    m1, m0 = margins(w1), margins(w0)
    players = ["rate", "association", *factors]
    count = len(players)
    cache: dict[frozenset[str], tuple[np.ndarray, np.ndarray]] = {}

    def state(coalition: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
        if coalition not in cache:
            base = w1 if "association" in coalition else w0
            targets = [m1[k] if f in coalition else m0[k] for k, f in enumerate(factors)]
            weights = _raked(base, keys, targets)
            cache[coalition] = (weights, r1 if "rate" in coalition else r0)
        return cache[coalition]

    parts = {p: np.zeros(len(cells)) for p in players}
    for player in players:
        others = [p for p in players if p != player]
        for size in range(count):
            share = math.factorial(size) * math.factorial(count - size - 1) / math.factorial(count)
            for coalition in itertools.combinations(others, size):
                without = frozenset(coalition)
                w_a, r_a = state(without)
                w_b, r_b = state(without | {player})
                if player == "rate":
                    parts[player] += share * w_a * (r_b - r_a)  # w_a == w_b: rates only
                else:  # weights only; centring moves nothing in the sum (weights sum to 1)
                    parts[player] += share * (w_b - w_a) * (r_a - centre)
    mix_cells = sum((parts[p] for p in players if p != "rate"), np.zeros(len(cells)))
    return FactorSplit(
        now=now, before=before, factors=tuple(factors),
        mix={f: float(parts[f].sum()) for f in factors},
        association=float(parts["association"].sum()), rate=float(parts["rate"].sum()),
        cells=tuple((key, float(m), float(r))
                    for key, m, r in zip(keys, mix_cells, parts["rate"], strict=True)))
