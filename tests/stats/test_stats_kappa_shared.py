"""Pooled Cohen's kappa of auditors against a calibrator whose rating every auditor of an
item is compared with: the interval resamples items, keeping their pairs together."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from reportgen.metrics import calculator
from reportgen.stats import agreement
from reportgen.stats import clustered as stats_clustered

AUDITORS, CATEGORIES = 4, 3


def ratings(rng: np.random.Generator, items: int) -> tuple[np.ndarray, np.ndarray]:
    """(auditors' ratings items x AUDITORS, calibrator's rating per item).

    An item is read one way by everyone who rates it (its "perceived" category, the true one
    unless the item is ambiguous); each rater then gives that reading 80% of the time.  So
    the pairs of one item are dependent: when the calibrator slips, every pair disagrees.
    """
    truth = rng.choice(CATEGORIES, size=items, p=[0.6, 0.3, 0.1])
    ambiguous = rng.random(items) < 0.3
    perceived = np.where(ambiguous, rng.integers(0, CATEGORIES, items), truth)

    def rate(shape: tuple[int, ...]) -> np.ndarray:
        read = np.broadcast_to(perceived.reshape(-1, *([1] * (len(shape) - 1))), shape)
        return np.where(rng.random(shape) < 0.8, read, rng.integers(0, CATEGORIES, shape))

    return rate((items, AUDITORS)), rate((items,))


def pooled_table(auditors: np.ndarray, calibrator: np.ndarray) -> np.ndarray:
    table = np.zeros((CATEGORIES, CATEGORIES))
    np.add.at(table, (auditors.ravel(), np.repeat(calibrator, AUDITORS)), 1)
    return table


def test_kappa_of_totals_is_statsmodels_kappa() -> None:
    auditors, calibrator = ratings(np.random.default_rng(1), 200)
    table = pooled_table(auditors, calibrator)
    for weights, levels in (("none", None), ("linear", [1.0, 2.0, 4.0]),
                            ("quadratic", [1.0, 2.0, 4.0])):
        expected, _ = agreement.cohens_kappa(table, weights, levels)  # type: ignore[arg-type]
        disagreement = stats_clustered.kappa_disagreement(levels, CATEGORIES, weights)
        got = stats_clustered.cohens_kappa_of_totals(table[None], disagreement)[0]
        assert got == pytest.approx(expected, abs=1e-12)
    assert np.isnan(stats_clustered.cohens_kappa_of_totals(
        np.array([[[5.0, 0.0], [0.0, 0.0]]]), 1.0 - np.eye(2))[0])


def test_item_bootstrap_covers_when_auditors_share_the_calibrators_rating() -> None:
    """60 items x 4 auditors per calibration month; the asymptotic SE counts 240 independent
    pairs, the item bootstrap 60 items."""
    started = time.perf_counter()
    truth_auditors, truth_calibrator = ratings(np.random.default_rng(0), 400_000)
    true_kappa, _ = agreement.cohens_kappa(pooled_table(truth_auditors, truth_calibrator))
    rng = np.random.default_rng(20261202)
    runs, items = 300, 60
    disagreement = stats_clustered.kappa_disagreement(None, CATEGORIES, "none")
    item_hits = pair_hits = 0
    for run in range(runs):
        auditors, calibrator = ratings(rng, items)
        kappa, se = agreement.cohens_kappa(pooled_table(auditors, calibrator))
        low, high = agreement.kappa_interval(kappa, se, 0.95)  # type: ignore[misc]
        pair_hits += low <= true_kappa <= high
        shares = stats_clustered.kappa_pair_units(
            np.repeat(np.arange(items), AUDITORS), auditors.ravel(),
            np.repeat(calibrator, AUDITORS), CATEGORIES)
        bounds = agreement.bootstrap_interval(
            shares, lambda t: stats_clustered.cohens_kappa_of_totals(t, disagreement), 0.95,
            seed=run)
        assert bounds is not None
        item_hits += bounds[0] <= true_kappa <= bounds[1]
    assert item_hits / runs >= 0.93
    assert pair_hits / runs < 0.88  # the pairs-as-independent interval is too narrow
    assert time.perf_counter() - started < 60


def panel(auditors: np.ndarray, calibrator: np.ndarray) -> pd.DataFrame:
    rows = []
    for i, (row, ref) in enumerate(zip(auditors, calibrator, strict=True)):
        rows.append({"session_id": "S1", "ticket_id": f"T{i}", "category": "c",
                     "rater_id": "CAL", "role": "calibrator", "rating": int(ref) + 1})
        rows += [{"session_id": "S1", "ticket_id": f"T{i}", "category": "c",
                  "rater_id": f"AU{a}", "role": "auditor", "rating": int(r) + 1}
                 for a, r in enumerate(row)]
    return pd.DataFrame(rows)


def test_the_calculator_uses_the_item_bootstrap() -> None:
    auditors, calibrator = ratings(np.random.default_rng(5), 80)
    calc = calculator("cohen_kappa")
    est = calc.estimate(panel(auditors, calibrator), calc.Params())
    expected, se = agreement.cohens_kappa(pooled_table(auditors, calibrator))
    assert est.value == pytest.approx(expected) and est.n == 80 * AUDITORS
    interval = est.interval(0.95)
    assert interval is not None and "over items" in interval.method
    assert interval.low < est.value < interval.high
    narrow = agreement.kappa_interval(expected, se, 0.95)
    assert narrow is not None
    assert interval.high - interval.low > narrow[1] - narrow[0]  # shared ratings: wider
    assert est.interval(0.95) == interval  # seeded: the same data give the same interval
