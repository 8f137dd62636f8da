"""A source opened for one run: its handle (canonical rows, identity, the statements run on it),
the probe of a database source's state, the digest of rows fetched, and its times as
instants.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reportgen.data.canonical import TIME, Canonical
from reportgen.definition.content_specs import SourceSpec
from reportgen.period import Period

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class SourceHandle:
    name: str
    spec: SourceSpec
    canonical: Canonical
    identity: tuple[Any, ...]
    #: every statement run for this source, in order
    statements: list[str] = field(default_factory=list)
    #: the same as (sql, positional params), for replaying them with the plain driver
    replay: list[tuple[str, list[Any]]] = field(default_factory=list)
    digest: Any = field(default_factory=hashlib.sha256)

    @property
    def connection(self) -> sa.Connection:
        return self.canonical.raw.connection


def probe_source(spec: SourceSpec, canonical: Canonical) -> Any:
    """A database source's state where it lives: its ``version_query``, or its window's row
    count, latest time and a checksum of its values."""
    connection = canonical.raw.connection
    if spec.version_query:
        return [tuple(r) for r in connection.execute(sa.text(spec.version_query)).fetchall()]
    rows = canonical.rows
    # a checksum of the window's values in the same scan: an edited rating or a renamed
    # queue changes a sum even when the count and the latest time stay
    sums = [sa.func.sum(rows.c[c]) if kind in ("int", "float")
            else sa.func.sum(sa.func.length(sa.cast(rows.c[c], sa.String)))
            for c, kind in canonical.kinds.items() if c in rows.c]
    return tuple(connection.execute(
        sa.select(sa.func.count(), sa.func.max(rows.c[TIME]), *sums)).one())


def digest_frame(digest: Any, frame: pd.DataFrame) -> None:
    """Add ``frame``'s values to ``digest`` a column at a time: numbers by their bytes (no
    copy), other values by pandas' per-value hash, so no more than one column's hashes exist
    at once (hashing a 10M-row frame whole holds several of them, hundreds of MB)."""
    import numpy as np
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        digest.update(str(name).encode())
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biufcmM":
            values = np.ascontiguousarray(column.to_numpy())
            if values.dtype.kind in "mM":  # times by their integer ticks
                values = values.view("int64")
            digest.update(values.data.cast("B"))
        else:
            digest.update(pd.util.hash_pandas_object(column, index=False)
                          .to_numpy().data.cast("B"))


def as_instants(values: pd.Series, handle: SourceHandle, periods: Sequence[Period]) -> pd.Series:
    """Times as aware instants in the report's timezone."""
    import pandas as pd

    tz = periods[0].timezone if periods else "UTC"
    parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=False) \
        if not pd.api.types.is_datetime64_any_dtype(values) else values
    if not isinstance(getattr(parsed, "dtype", None), pd.DatetimeTZDtype):
        try:
            parsed = pd.to_datetime(parsed, utc=False)
        except (TypeError, ValueError):
            parsed = pd.to_datetime(parsed, utc=True)
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(handle.spec.timezone, ambiguous="NaT",
                                       nonexistent="shift_forward")
    return parsed.dt.tz_convert(tz)
