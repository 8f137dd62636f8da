"""Gwet's AC2 (quadratic weights) against the values irrCAC's documentation prints.

Source: irrCAC's vignette "Weighted Chance-corrected Agreement Coefficients" (K. L. Gwet,
2019; https://cran.r-project.org/web/packages/irrCAC/vignettes/weighting.html, source
kgwet/irrCAC vignettes/weighting.Rmd), which follows Gwet's Handbook of Inter-Rater
Reliability (2014), ch. 3:

* ``gwet.ac1.raw(cac.raw4raters, weights = "quadratic")$est``: pa 0.9753788,
  pe 0.7137044, AC2 0.914, SE 0.10396;
* ``gwet.ac1.table(cont3x3abstractors, weights = quadratic.weights(1:3))``: AC2 0.9402369,
  SE 0.01792019.

The unweighted AC1 of the same two data sets is checked in tests/test_stats_agreement.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reportgen.stats import agreement

#: irrCAC's ``cac.raw4raters``: 12 units (rows) x 4 raters, categories 1-5, None = not rated.
RAW_4_RATERS = [
    [1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1],
    [None, None, 3, None],
]
#: irrCAC's ``cont3x3abstractors``: rater 1 (rows) x rater 2 (columns), 100 pregnancies.
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def test_quadratic_ac2_of_four_raters_with_missing_ratings() -> None:
    counts = np.array([[sum(r == k for r in unit) for k in range(1, 6)]
                       for unit in RAW_4_RATERS], float)
    result = agreement.gwet_ac(counts, agreement.agreement_weights([1, 2, 3, 4, 5], "quadratic"))
    assert result.agreement == pytest.approx(0.9753788, abs=1e-7)
    assert result.chance == pytest.approx(0.7137044, abs=1e-7)
    assert result.value == pytest.approx(0.914, abs=5e-4)
    assert result.se == pytest.approx(0.10396, abs=5e-6)
    assert result.units == 11


def test_quadratic_ac2_of_the_abstractors_table() -> None:
    units = [np.eye(3)[i] + np.eye(3)[j] for i in range(3) for j in range(3)
             for _ in range(ABSTRACTORS[i][j])]
    result = agreement.gwet_ac(np.array(units), agreement.agreement_weights([1, 2, 3], "quadratic"))
    assert result.value == pytest.approx(0.9402369, abs=1e-7)
    # The table form of the variance divides by n^2, the raw-data form by n(n - 1).
    assert result.se * math.sqrt(99 / 100) == pytest.approx(0.01792019, abs=1e-8)
