"""Gwet's AC1/AC2 against published values; seeded bootstrap intervals for kappa and alpha."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from reportgen.metrics import calculator
from reportgen.stats import agreement


def run(name: str, frame: pd.DataFrame, **params: object):  # noqa: ANN201
    calc = calculator(name)
    return calc.estimate(frame, calc.Params.model_validate(params))


def counts_from_pairs(table: list[list[int]]) -> np.ndarray:
    """A units x categories count table from a two-rater contingency table."""
    q = len(table)
    rows = []
    for i in range(q):
        for j in range(q):
            for _ in range(table[i][j]):
                unit = np.zeros(q)
                unit[i] += 1
                unit[j] += 1
                rows.append(unit)
    return np.array(rows)


#: irrCAC's ``cont3x3abstractors`` (2 abstractors, 100 pregnancies: ectopic / AIU / NIU),
#: from Gwet's Handbook of Inter-Rater Reliability (2014).  The irrCAC overview vignette
#: (https://cran.r-project.org/web/packages/irrCAC/vignettes/overview.html) gives
#: ``gwet.ac1.table(cont3x3abstractors)``: AC1 0.8493305, SE 0.04321747.
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]

#: irrCAC's ``cac.raw4raters``: 4 raters, 12 units, categories 1-5, missing ratings
#: (Gwet 2014, p. 120).  The same vignette runs ``gwet.ac1.raw(cac.raw4raters)``:
#: pa 0.8182, pe 0.1903, AC1 0.7754, SE 0.1430 (to the four decimals compared here).
RAW_4_RATERS = [
    [1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1],
    [None, None, 3, None],
]


def test_gwet_ac1_on_the_abstractors_table() -> None:
    result = agreement.gwet_ac(counts_from_pairs(ABSTRACTORS))
    assert result.value == pytest.approx(0.8493305, abs=1e-7)
    assert result.agreement == pytest.approx(0.89)
    # The table form of the variance divides by n^2, the raw-data form by n(n - 1).
    assert result.se * math.sqrt(99 / 100) == pytest.approx(0.04321747, abs=1e-8)


def test_gwet_ac1_with_missing_ratings_and_four_raters() -> None:
    counts = np.array([[sum(r == k for r in unit) for k in range(1, 6)]
                       for unit in RAW_4_RATERS], float)
    result = agreement.gwet_ac(counts)
    assert result.agreement == pytest.approx(0.8182, abs=1e-4)
    assert result.chance == pytest.approx(0.1903, abs=1e-4)
    assert result.value == pytest.approx(0.7754, abs=1e-4)
    assert result.se == pytest.approx(0.1430, abs=1e-4)
    assert result.units == 11  # unit 12 has one rating: chance agreement only


def test_gwet_ac2_with_identity_weights_is_ac1_and_weights_raise_agreement() -> None:
    counts = counts_from_pairs(ABSTRACTORS)
    levels = [1.0, 2.0, 3.0]
    assert agreement.gwet_ac(counts, agreement.agreement_weights(levels, "none")).value == \
        pytest.approx(agreement.gwet_ac(counts).value)
    linear = agreement.agreement_weights(levels, "linear")
    assert linear[0].tolist() == [1.0, 0.5, 0.0]
    # AIU vs NIU disagreements are one step apart: partial credit raises p_a.
    assert agreement.gwet_ac(counts, linear).agreement > 0.89


def panel(units: list[list[int | None]]) -> pd.DataFrame:
    rows = []
    for u, unit in enumerate(units):
        for r, rating in enumerate(unit):
            if rating is not None:
                rows.append({"session_id": "S", "ticket_id": f"T{u}", "category": "c",
                             "rater_id": f"R{r}", "role": "auditor", "rating": rating})
    return pd.DataFrame(rows)


def test_gwet_calculator_matches_the_published_value() -> None:
    est = run("gwet_ac1", panel(RAW_4_RATERS))
    direct = agreement.gwet_ac(np.array([[sum(r == k for r in unit) for k in range(1, 6)]
                                     for unit in RAW_4_RATERS], float))
    assert est.value == pytest.approx(0.7754, abs=1e-4)
    assert est.n == 11
    interval = est.interval(0.95)
    assert interval is not None
    # irrCAC prints conf.int "(0.461,1)": t on all 12 rated units - 1 = 11 df (2.201), not
    # on the 11 units rated twice or more; the upper end is clipped at 1
    assert interval.low == pytest.approx(0.461, abs=5e-4)
    assert interval.low == pytest.approx(direct.value - 2.2009852 * direct.se, abs=1e-6)
    assert interval.high == 1.0


def test_gwet_ac2_interval_equals_irrcac() -> None:
    # irrCAC's weighting vignette: gwet.ac1.raw(cac.raw4raters, weights = "quadratic")
    # prints AC2 0.914, SE 0.10396, conf.int "(0.685,1)"
    counts = np.array([[sum(r == k for r in unit) for k in range(1, 6)]
                       for unit in RAW_4_RATERS], float)
    result = agreement.gwet_ac(counts, agreement.agreement_weights([1, 2, 3, 4, 5], "quadratic"))
    interval = result.interval(0.95)
    assert interval is not None
    assert interval[0] == pytest.approx(0.685, abs=5e-4)
    assert interval[1] == 1.0


def test_perfect_agreement_over_the_declared_scale_is_one() -> None:
    everyone_gives_three = panel([[3, 3, 3, 3] for _ in range(12)])
    est = run("gwet_ac1", everyone_gives_three, categories=[1, 2, 3, 4, 5])
    assert est.value == 1.0
    assert run("gwet_ac1", everyone_gives_three, categories=[1, 2, 3, 4, 5],
               weights="quadratic").value == 1.0
    # without the scale, one category used is all there is: chance agreement is undefined
    assert run("gwet_ac1", everyone_gives_three).value is None


def test_declared_categories_are_the_scale_of_chance_agreement() -> None:
    # irrCAC's example uses categories 1-5; declaring them gives the same table and value
    est = run("gwet_ac1", panel(RAW_4_RATERS), categories=[1, 2, 3, 4, 5])
    assert est.value == pytest.approx(0.7754, abs=1e-4)
    # a six-point scale of which 6 is never used: more categories, less chance agreement
    wider = run("gwet_ac1", panel(RAW_4_RATERS), categories=[1, 2, 3, 4, 5, 6])
    assert wider.value is not None and wider.value > est.value


def agreeing_panel(seed: int, units: int = 60, raters: int = 4) -> pd.DataFrame:
    """Raters who copy each unit's true category 80% of the time, else pick one of 4."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 5, units)
    ratings = [[int(t) if rng.random() < 0.8 else int(rng.integers(1, 5)) for _ in range(raters)]
               for t in truth]
    return panel(ratings)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["fleiss_kappa", "krippendorff_alpha"])
def test_bootstrap_interval_is_seeded_and_brackets_the_estimate(name: str) -> None:
    frame = agreeing_panel(7)
    params = {"level": "nominal"} if name == "krippendorff_alpha" else {}
    first, second = run(name, frame, **params), run(name, frame, **params)
    a, b = first.interval(0.95), second.interval(0.95)
    assert a is not None and b is not None
    assert (a.low, a.high) == (b.low, b.high)  # same data, same interval
    assert "bootstrap" in a.method
    assert a.low < first.value < a.high
    assert 0.05 < a.high - a.low < 0.5
    narrower = first.interval(0.80)
    assert narrower is not None and a.low < narrower.low < narrower.high < a.high


def test_bootstrap_interval_of_fleiss_kappa_covers() -> None:
    # Raters copy the truth with probability 0.8, else guess uniformly from 4 categories,
    # so kappa's population value is 1 - P(disagree) / chance disagreement, computed here
    # from a very large panel.
    truth = run("fleiss_kappa", agreeing_panel(99, units=20_000)).value
    assert truth is not None
    covered = 0
    runs = 40
    for seed in range(runs):
        interval = run("fleiss_kappa", agreeing_panel(seed)).interval(0.95)
        assert interval is not None
        covered += interval.low <= truth <= interval.high
    assert covered >= 34  # 95% nominal; 34 of 40 is the 1% lower tail of Binomial(40, 0.95)


# ---------- the bootstrap's weighted totals give the libraries' own statistics ----------

def sparse_reliability(seed: int, raters: int = 5, units: int = 40) -> np.ndarray:
    """A raters x units matrix on a 1-5 scale with a third of the ratings missing."""
    rng = np.random.default_rng(seed)
    data = rng.integers(1, 6, size=(raters, units)).astype(float)
    data[rng.random(data.shape) < 0.33] = np.nan
    return data


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_from_unit_coincidences_matches_the_package(level: str) -> None:
    import krippendorff

    data = sparse_reliability(3)
    domain = [1.0, 2.0, 3.0, 4.0, 5.0]
    units = agreement.krippendorff_units(data, domain)
    whole = agreement.krippendorff_of_totals(units.sum(axis=0)[None], level, domain)[0]
    assert whole == pytest.approx(krippendorff.alpha(
        reliability_data=data, level_of_measurement=level, value_domain=domain), abs=1e-12)
    # a resample is a weighting of the units: the same as the package on the drawn columns
    draw = np.random.default_rng(11).integers(0, data.shape[1], data.shape[1])
    weights = np.bincount(draw, minlength=data.shape[1]).astype(float)
    resampled = agreement.krippendorff_of_totals(np.tensordot(weights, units, axes=1)[None],
                                             level, domain)[0]
    assert resampled == pytest.approx(krippendorff.alpha(
        reliability_data=data[:, draw], level_of_measurement=level, value_domain=domain),
        abs=1e-12)


def test_fleiss_from_unit_shares_matches_statsmodels() -> None:
    from statsmodels.stats.inter_rater import fleiss_kappa

    rng = np.random.default_rng(5)
    table = np.array([np.bincount(rng.integers(0, 4, 6), minlength=4) for _ in range(50)], float)
    units = agreement.fleiss_kappa_units(table)
    draw = rng.integers(0, len(table), len(table))
    weights = np.bincount(draw, minlength=len(table)).astype(float)
    got = agreement.fleiss_kappa_of_totals(np.vstack([units.sum(axis=0), weights @ units]))
    assert got[0] == pytest.approx(fleiss_kappa(table, method="fleiss"), abs=1e-12)
    assert got[1] == pytest.approx(fleiss_kappa(table[draw], method="fleiss"), abs=1e-12)


def test_a_resample_with_one_category_is_undefined_not_zero() -> None:
    one = np.array([[4.0, 0.0], [4.0, 0.0]])
    assert math.isnan(agreement.fleiss_kappa_of_totals(agreement.fleiss_kappa_units(one).sum(0)[None])[0])
    same = np.full((3, 4), 2.0)
    coincidences = agreement.krippendorff_units(same, [1.0, 2.0]).sum(axis=0)[None]
    assert math.isnan(agreement.krippendorff_of_totals(coincidences, "nominal", [1.0, 2.0])[0])
