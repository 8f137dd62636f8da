"""The Shapley split of a rate change over several factors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support.plans import plan_of

from reportgen.insights.decomposition import Cell, Segment, decompose, shapley_split


def random_cells(seed: int, levels: tuple[int, ...]) -> list[Cell]:
    rng = np.random.default_rng(seed)
    cells = []
    for key in itertools.product(*(range(n) for n in levels)):
        w0, w1 = rng.integers(20, 400, 2).astype(float)
        cells.append(Cell(tuple(f"L{k}" for k in key), w1, w1 * rng.uniform(0.5, 0.95),
                          w0, w0 * rng.uniform(0.5, 0.95)))
    return cells


def overall(cells: list[Cell]) -> tuple[float, float]:
    return (sum(c.total_now for c in cells) / sum(c.weight_now for c in cells),
            sum(c.total_before for c in cells) / sum(c.weight_before for c in cells))


@pytest.mark.parametrize("levels", [(3, 4), (2, 3, 4)])
def test_parts_sum_exactly_to_the_change(levels: tuple[int, ...]) -> None:
    cells = random_cells(len(levels), levels)
    factors = [f"f{i}" for i in range(len(levels))]
    split = shapley_split(cells, factors)
    now, before = overall(cells)
    assert split.total == pytest.approx(now - before, abs=1e-15)
    parts = sum(split.mix.values()) + split.association + split.rate
    assert parts == pytest.approx(now - before, abs=1e-12)
    assert sum(m + r for _, m, r in split.cells) == pytest.approx(now - before, abs=1e-12)
    for factor in factors:
        assert sum(m + r for _, m, r in split.by_level(factor)) == pytest.approx(now - before,
                                                                                  abs=1e-12)


def test_split_does_not_depend_on_the_order_of_factors() -> None:
    cells = random_cells(9, (2, 3, 3))
    split = shapley_split(cells, ["a", "b", "c"])
    order = (2, 0, 1)
    shuffled = [Cell(tuple(c.key[i] for i in order), c.weight_now, c.total_now,
                     c.weight_before, c.total_before) for c in cells]
    other = shapley_split(shuffled, ["c", "a", "b"])
    for factor in "abc":
        assert other.mix[factor] == pytest.approx(split.mix[factor], abs=1e-13)
    assert other.rate == pytest.approx(split.rate, abs=1e-13)
    assert other.association == pytest.approx(split.association, abs=1e-13)


def test_with_one_factor_constant_it_is_the_two_factor_split() -> None:
    rng = np.random.default_rng(4)
    segments, cells = [], []
    for name in ("chat", "email", "phone", "social"):
        w0, w1 = rng.integers(50, 500, 2).astype(float)
        t0, t1 = w0 * rng.uniform(0.6, 0.9), w1 * rng.uniform(0.6, 0.9)
        segments.append(Segment(name, w1, t1, w0, t0))
        cells.append(Cell((name, "all queues"), w1, t1, w0, t0))
    two = decompose(segments)
    many = shapley_split(cells, ["channel", "queue"])
    assert many.mix["channel"] == pytest.approx(two.mix, abs=1e-13)
    assert many.rate == pytest.approx(two.rate, abs=1e-13)
    assert many.mix["queue"] == pytest.approx(0.0, abs=1e-13)
    assert many.association == pytest.approx(0.0, abs=1e-13)
    levels = {level: (m, r) for level, m, r in many.by_level("channel")}
    for part in two.contributions:
        assert levels[part.label][0] == pytest.approx(part.mix, abs=1e-13)
        assert levels[part.label][1] == pytest.approx(part.rate, abs=1e-13)


def test_a_pure_shift_of_one_factor_is_that_factors_mix() -> None:
    # Two independent factors; only channel's distribution moves, every cell keeps its rate.
    rates = {("chat", "q1"): 0.9, ("chat", "q2"): 0.8, ("phone", "q1"): 0.6, ("phone", "q2"): 0.5}
    before_channel, now_channel = {"chat": 0.5, "phone": 0.5}, {"chat": 0.8, "phone": 0.2}
    queue = {"q1": 0.4, "q2": 0.6}
    cells = [Cell(key, 1000 * now_channel[key[0]] * queue[key[1]],
                  1000 * now_channel[key[0]] * queue[key[1]] * r,
                  1000 * before_channel[key[0]] * queue[key[1]],
                  1000 * before_channel[key[0]] * queue[key[1]] * r)
             for key, r in rates.items()]
    split = shapley_split(cells, ["channel", "queue"])
    now, before = overall(cells)
    assert split.mix["channel"] == pytest.approx(now - before, abs=1e-12)
    assert split.rate == pytest.approx(0.0, abs=1e-12)
    assert split.mix["queue"] == pytest.approx(0.0, abs=1e-12)
    assert split.association == pytest.approx(0.0, abs=1e-12)


def test_a_cross_breakdown_change_is_split_over_its_factors_in_the_finding() -> None:
    from test_insights_support import PERIOD, compute, definition, survey_rows, window

    from reportgen.insights import build_insights

    rng = np.random.default_rng(3)
    history = window(2)
    before, now = history
    # Volume moves to Billing, whose satisfaction is lower; rates stay where they were.
    queues = [("Billing", 300, 900, 0.55), ("Payments", 700, 300, 0.9)]
    cells = [(p, q, n, share) for q, n_before, n_now, share in queues
             for p, n in ((before, n_before), (now, n_now))]
    frames = {"survey": survey_rows(rng, cells, channel=True)}
    defn = definition([{"id": "m", "calculator": "csat", "source": "survey",
                        "by": [["queue", "channel"]]}])
    metrics = compute(defn, frames, history)
    findings = build_insights(plan_of(defn), metrics, frames, PERIOD, history)
    driver = next(f for f in findings if f.kind == "driver")
    numbers = driver.numbers
    assert numbers["method"].startswith("Shapley")
    parts = sum(numbers["mix_by_factor"].values()) + numbers["association"] + numbers["rate"]
    assert parts == pytest.approx(metrics["m"].change.delta, abs=1e-12)
    # the queue mix carries the change; channel (assigned at random) and rates carry little
    assert abs(numbers["mix_by_factor"]["queue"]) > 0.5 * abs(numbers["total"])
    assert "the mix of queues accounts for" in driver.sentence
