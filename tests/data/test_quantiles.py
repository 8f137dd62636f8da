"""The SQL a quantile metric runs: each piece against numpy on the same values, in DuckDB.

(The whole path, on DuckDB and PostgreSQL sources, is checked against the rows path in
tests/metrics/test_quantile_source.py.)
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from reportgen.data.quantiles import interpolated, rank_fraction, value_ranks


@pytest.fixture
def connection():
    with duckdb.connect() as conn:
        yield conn


def test_discrete_quantiles_at_rank_fractions_are_those_order_statistics(connection):
    rng = np.random.default_rng(17)
    for trial in range(150):
        n = int(rng.integers(1, 40)) if trial % 2 else int(rng.integers(40, 20_000))
        values = np.round(rng.lognormal(2.0, 1.0, n), int(rng.integers(0, 3)))  # ties
        ranks = sorted({1, n, *(int(r) for r in rng.integers(1, n + 1, 5))})
        listed = ", ".join(f"CAST({rank_fraction(n, r)!r} AS DOUBLE PRECISION)" for r in ranks)
        table = connection.from_df(pd.DataFrame({"x": values}))
        got = table.query("v", f"select percentile_disc(ARRAY[{listed}]) "
                               "within group (order by x) from v").fetchall()[0][0]
        assert got == list(np.sort(values)[[r - 1 for r in ranks]]), (n, ranks)


@pytest.mark.parametrize("q", [0.5, 0.9, 0.1])
def test_continuous_quantile_is_numpys_linear_one(connection, q):
    rng = np.random.default_rng(23)
    for n in [1, 2, 3, 10, 11, 999, 12_345]:
        values = np.round(rng.gamma(2.0, 9.0, n), 1)
        table = connection.from_df(pd.DataFrame({"x": values}))
        got = table.query("v", f"select percentile_cont({q}) within group (order by x) "
                               "from v").fetchall()[0][0]
        assert got == pytest.approx(float(np.quantile(values, q)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.1, 0.99])
def test_the_quantile_between_two_order_statistics_is_numpys_linear_one(connection, q):
    """The value is read with the interval's order statistics, in one sort: the two order
    statistics ``value_ranks`` names, read as discrete quantiles, then interpolated."""
    rng = np.random.default_rng(29)
    for n in [1, 2, 3, 4, 10, 11, 20, 999, 12_345]:
        values = np.round(rng.gamma(2.0, 9.0, n), int(rng.integers(0, 2)))  # ties
        low, high, weight = value_ranks(n, q)
        listed = ", ".join(f"CAST({rank_fraction(n, r)!r} AS DOUBLE PRECISION)"
                           for r in (low, high))
        table = connection.from_df(pd.DataFrame({"x": values}))
        below, above = table.query("v", f"select percentile_disc(ARRAY[{listed}]) "
                                        "within group (order by x) from v").fetchall()[0][0]
        expected = float(np.quantile(values, q))
        assert interpolated(below, above, weight) == pytest.approx(expected, rel=1e-12,
                                                                   abs=1e-12), (n, q)
        cont = table.query("v", f"select percentile_cont({q}) within group (order by x) "
                                "from v").fetchall()[0][0]
        assert interpolated(below, above, weight) == pytest.approx(cont, rel=1e-12, abs=1e-12)
