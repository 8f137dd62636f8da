"""Rows from an embedded DuckDB source, in period order, at little more than their own size.

Asking DuckDB for ``ORDER BY period`` and then for a DataFrame holds the sorted result
twice (DuckDB's copy and the frame's) on top of the sort itself: about four times the
frame at 10M rows.  The rows are read instead as DuckDB produces them, in chunks of about
100,000, and each chunk is split by period at once; the pieces are joined in period order
at the end.  Within a period the rows keep the source's order (DuckDB preserves insertion
order), so the result is the same on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: DuckDB vectors (2,048 rows each) per chunk read
VECTORS_PER_CHUNK = 50


def frame_in_period_order(driver: Any, sql: str, params: list[Any], period: str) -> pd.DataFrame:
    """The result of ``sql`` (a DuckDB connection's driver-level statement) as a frame whose
    ``period`` column (small integer codes, -1 for none) is non-decreasing."""
    import numpy as np
    import pandas as pd

    result = driver.execute(sql, params)
    # per period code, per column: the chunks' pieces (arrays: no index to carry)
    pieces: dict[int, dict[str, list[Any]]] = {}
    columns: list[str] = []
    empty: pd.DataFrame | None = None
    while True:
        chunk = result.fetch_df_chunk(VECTORS_PER_CHUNK)
        if empty is None:
            columns = list(chunk.columns)
            empty = chunk.iloc[0:0].copy()
        if not len(chunk):
            break
        codes = pd.to_numeric(chunk[period], errors="coerce").fillna(-1) \
            .to_numpy().astype("int16")
        present = np.unique(codes)
        for code in present:
            mask = None if len(present) == 1 else codes == code
            into = pieces.setdefault(int(code), {c: [] for c in columns})
            for column in columns:
                values = codes if column == period else chunk[column].array
                into[column].append(values if mask is None else values[mask])
        del chunk
    assert empty is not None
    if not pieces:
        empty[period] = empty[period].astype("int16")
        return empty
    # one column at a time, so its pieces are let go before the next is joined
    order = sorted(pieces)
    joined: dict[str, pd.Series] = {}
    for column in columns:
        parts = [pd.Series(piece, copy=False) for code in order
                 for piece in pieces[code].pop(column)]
        joined[column] = pd.concat(parts, ignore_index=True) if len(parts) > 1 \
            else parts[0]
        del parts
    return pd.DataFrame(joined, copy=False)
