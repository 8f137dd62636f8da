"""Rows from DuckDB come in period order, in chunks, at little more than their own size."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from reportgen.data import DataStore, Window, fetch
from reportgen.definition.content_specs import SourceSpec
from reportgen.period import Period


def _table(n: int, seed: int = 3) -> duckdb.DuckDBPyConnection:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "period": rng.integers(0, 5, n).astype(float),
        "value": rng.normal(size=n),
        "label": rng.choice(["a", "b", "<b>x</b>"], n),
        "at": pd.date_range("2026-01-01", periods=n, freq="min"),
    })
    frame.loc[frame.index % 97 == 0, "period"] = np.nan  # rows no period claims
    frame["count"] = pd.array(rng.integers(0, 9, n), dtype="Int64")
    frame.loc[frame.index % 13 == 0, "count"] = pd.NA
    conn = duckdb.connect()
    conn.register("source", frame)
    conn.execute("CREATE TABLE t AS SELECT * FROM source")
    return conn


def test_rows_come_grouped_by_period_each_in_the_sources_order(monkeypatch) -> None:
    monkeypatch.setattr(fetch, "VECTORS_PER_CHUNK", 1)  # 2,048 rows a chunk: many chunks
    conn = _table(20_000)
    got = fetch.frame_in_period_order(
        conn, "SELECT id, value, label, \"at\", \"count\", CAST(period AS INTEGER) AS p FROM t "
              "WHERE id % 2 = 0 OR id < ?", [10], "p")
    want = conn.execute("SELECT id, value, label, \"at\", \"count\", "
                        "coalesce(CAST(period AS INTEGER), -1) AS p FROM t "
                        "WHERE id % 2 = 0 OR id < 10").df()
    assert len(got) == len(want) == 10_005
    assert got["p"].is_monotonic_increasing and got["p"].min() == -1 and got["p"].max() == 4
    for code, part in got.groupby("p"):
        assert part["id"].is_monotonic_increasing, code  # the source's order within a period
    merged = got.merge(want, on="id", suffixes=("", "_want"))
    assert len(merged) == len(want)
    assert (merged["p"] == merged["p_want"]).all()
    assert np.array_equal(merged["value"], merged["value_want"])
    assert (merged["label"] == merged["label_want"]).all()
    assert (merged["at"] == merged["at_want"]).all()
    assert merged["count"].isna().sum() == want["count"].isna().sum() > 0
    assert (merged["count"].fillna(-7) == merged["count_want"].fillna(-7)).all()


def test_an_empty_result_is_an_empty_frame_with_the_columns() -> None:
    conn = _table(100)
    got = fetch.frame_in_period_order(conn, "SELECT id, value, CAST(period AS INTEGER) AS p "
                                            "FROM t WHERE id < 0", [], "p")
    assert list(got.columns) == ["id", "value", "p"] and len(got) == 0


def test_a_million_rows_cost_little_more_than_the_frame(tmp_path: Path) -> None:
    """Python-side allocations while a source's rows are read (DuckDB's own buffers are
    bounded by its memory limit): the frame, plus at most one column's worth in flight.
    Reading the sorted result whole, then hashing the frame whole, took over four times
    the frame."""
    n = 1_000_000
    rng = np.random.default_rng(5)
    times = pd.Timestamp("2026-08-01") + pd.to_timedelta(rng.integers(0, 61 * 86400, n), "s")
    pd.DataFrame({"created_at": times, "minutes": rng.exponential(60, n),
                  "hours": rng.exponential(20, n)}).to_parquet(tmp_path / "t.parquet")
    spec = SourceSpec(kind="parquet", path="t.parquet", time_column="created_at",
                      columns={"minutes": "float", "hours": "float"})
    periods = [Period.parse(k, "month", "UTC") for k in ("2026-08", "2026-09")]
    window = Window(periods[0].start_at, periods[-1].end_at)
    with DataStore({"t": spec}, {"t": ["minutes", "hours"]}, tmp_path, window,
                   periods) as store:
        store.source("t")
        tracemalloc.start()
        try:
            frame = store.rows("t", ["minutes", "hours"])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    size = frame.memory_usage(index=False, deep=True).sum()
    assert len(frame) == n
    assert frame["__period__"].cat.codes.is_monotonic_increasing
    assert peak < 2.2 * size, f"peak {peak / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB frame"


@pytest.mark.parametrize("chunk", [1, 50])
def test_the_store_reads_the_same_rows_whatever_the_chunk(monkeypatch, tmp_path: Path,
                                                           chunk: int) -> None:
    monkeypatch.setattr(fetch, "VECTORS_PER_CHUNK", chunk)
    rows = pd.DataFrame({"created_at": pd.date_range("2026-08-20", periods=5000, freq="10min"),
                         "minutes": np.arange(5000, dtype=float)})
    rows.to_parquet(tmp_path / "t.parquet")
    spec = SourceSpec(kind="parquet", path="t.parquet", time_column="created_at",
                      columns={"minutes": "float"})
    periods = [Period.parse(k, "month", "UTC") for k in ("2026-08", "2026-09")]
    window = Window(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    with DataStore({"t": spec}, {"t": ["minutes"]}, tmp_path, window, periods) as store:
        frame = store.rows("t", ["minutes"])
    assert frame["minutes"].tolist() == list(np.arange(5000, dtype=float))
    august = (rows["created_at"] < "2026-09-01").sum()
    assert frame["__period__"].value_counts().to_dict() == {"2026-08": august,
                                                           "2026-09": 5000 - august}
