"""Column helpers shared by the generators: code lookups, ids, object-dtype frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def by_code(codes: np.ndarray, names: Sequence[str], table: Mapping[str, float]) -> np.ndarray:
    """``table[names[code]]`` for every code, as floats (a gather, not a per-row map)."""
    return np.array([table[name] for name in names], dtype=float)[codes]


def names_of(codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The names for integer codes, as an object array."""
    return np.array(names, dtype=object)[codes]


def sequential_ids(prefix: str, count: int, width: int) -> np.ndarray:
    """'T0000001'-style identifiers 1..count."""
    return np.char.add(prefix, np.char.zfill(np.arange(1, count + 1).astype(str), width)).astype(
        object
    )


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def object_frame(data: Mapping[str, Any]) -> pd.DataFrame:
    """A DataFrame whose text columns stay plain Python objects (None = missing).

    Newer pandas would otherwise turn them into Arrow strings with NaN for missing, which
    is slower to export and would need converting back for sqlite3.  Scalar strings are
    broadcast to the length of the other columns.
    """
    length = next(len(v) for v in data.values() if not isinstance(v, str))
    columns: dict[str, Any] = {}
    for name, values in data.items():
        if isinstance(values, str):
            values = np.full(length, values, dtype=object)
        if isinstance(values, np.ndarray) and values.dtype == object:
            values = pd.Series(values, dtype=object)
        columns[name] = values
    return pd.DataFrame(columns)
