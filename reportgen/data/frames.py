"""Aggregations over an in-memory DataFrame, through the same SQL as every source.

A calculator's ``estimate(frame)`` (used by insights on a subset of rows, and by tests on
published examples) runs its declared aggregation over the frame in an embedded DuckDB,
so the statistics have one implementation whether the rows live in a warehouse or here.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reportgen.data.aggregates import Aggregation, Request, Result, compile_requests, read_result
from reportgen.data.canonical import PERIOD
from reportgen.data.relations import driver_connection, duckdb_connection
from reportgen.period import Period

if TYPE_CHECKING:
    import pandas as pd

_local = threading.local()


def _connection() -> sa.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = duckdb_connection()
    return conn


def frame_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Contract kinds from pandas dtypes (object and text columns are read as text)."""
    import pandas as pd

    kinds = {}
    for column, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kinds[str(column)] = "bool"
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[str(column)] = "float"
        else:
            kinds[str(column)] = "unknown"
    return kinds


def _run(data: pd.DataFrame, requests: Sequence[Request]) -> Result:
    conn = _connection()
    data.columns = [str(c) for c in data.columns]
    name = f"frame_{threading.get_ident()}"
    raw = driver_connection(conn)
    raw.register(name, data)
    try:
        table = sa.table(name, *(sa.column(c) for c in data.columns))
        kinds = frame_kinds(data)
        merged = Result({})
        batches: dict[tuple[Any, ...], list[Request]] = {}
        for r in requests:
            batches.setdefault((repr(sorted(r.where.items())), r.aggregation.per), []).append(r)
        for batch in batches.values():
            statement, labels, keys = compile_requests(table, kinds, "duckdb", batch)
            result = conn.execute(statement)
            names = list(result.keys())
            rows = [tuple(r) for r in result.fetchall()]
            for k, v in read_result(rows, names, labels, keys,
                                    {s for r in batch for s in r.sets}).rows.items():
                merged.rows.setdefault(k, {}).update(v)
        return merged
    finally:
        raw.unregister(name)


def aggregate_frame(frame: pd.DataFrame, aggregation: Aggregation) -> Mapping[str, Any]:
    """The aggregation's values over every row of ``frame``."""
    data = frame.reset_index(drop=True)
    data = data[[c for c in data.columns if c != PERIOD]].assign(**{PERIOD: 0})
    return _run(data, [Request("x", aggregation, {}, ((),))]).get("x", (), 0)


def aggregate_periods(frame: pd.DataFrame, periods: Sequence[Period],
                      requests: Sequence[Request]) -> Result:
    """The requests over ``frame``, whose ``__period__`` column holds period keys; the
    result's period numbers index ``periods``."""
    import pandas as pd

    index = {p.key: i for i, p in enumerate(periods)}
    data = frame.reset_index(drop=True)
    keys = data[PERIOD].astype(object) if PERIOD in data.columns else pd.Series([], dtype=object)
    data = data[[c for c in data.columns if c != PERIOD]].assign(
        **{PERIOD: pd.array([index.get(k) if isinstance(k, str) else None for k in keys],
                            dtype="Int64")})
    return _run(data, requests)


def aggregate_by(frame: pd.DataFrame, groups: pd.Series,
                 aggregation: Aggregation) -> dict[Any, Mapping[str, Any]]:
    """The aggregation's values per value of ``groups`` (aligned with ``frame``), in one query."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(groups, sort=True)
    data = frame.reset_index(drop=True)
    data = data[[c for c in data.columns if c != PERIOD]].assign(
        **{PERIOD: pd.arrays.IntegerArray(np.where(codes >= 0, codes, 0).astype(np.int64),
                                          codes < 0)})
    result = _run(data, [Request("x", aggregation, {}, ((),))])
    return {uniques[i]: result.get("x", (), i) for i in range(len(uniques))}
