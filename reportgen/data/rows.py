"""Row access for the few readers that need rows (insights on a subset, row calculators).

``Rows`` is what they ask: the rows of some columns of a source, optionally restricted by
column values.  ``StoreRows`` answers from a DataStore (a query where the data lives, only
those columns and that subset); ``FrameRows`` from frames already in memory (tests, and
callers that built their own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from reportgen.data.canonical import PERIOD
from reportgen.period import Period

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.data.store import DataStore


class Rows(Protocol):
    def __contains__(self, source: object) -> bool: ...

    def rows(self, source: str, columns: Sequence[str],
             where: Mapping[str, Any] | None = None,
             periods: Sequence[Period] | None = None) -> pd.DataFrame:
        """The window's rows of ``columns`` of ``source`` (with ``__period__``), optionally
        only those matching ``where`` and in ``periods``."""
        ...


class StoreRows:
    def __init__(self, store: DataStore):
        self.store = store

    def __contains__(self, source: object) -> bool:
        return source in self.store.specs

    def rows(self, source: str, columns: Sequence[str],
             where: Mapping[str, Any] | None = None,
             periods: Sequence[Period] | None = None) -> pd.DataFrame:
        return self.store.rows(source, [*columns, *(where or {})], where, periods)


class FrameRows:
    def __init__(self, frames: Mapping[str, pd.DataFrame]):
        self.frames = frames

    def __contains__(self, source: object) -> bool:
        return source in self.frames

    def rows(self, source: str, columns: Sequence[str],
             where: Mapping[str, Any] | None = None,
             periods: Sequence[Period] | None = None) -> pd.DataFrame:
        frame = self.frames[source]
        frame = apply_filter(frame, where) if where else frame
        if periods is not None and PERIOD in frame.columns:
            frame = frame.loc[frame[PERIOD].isin([p.key for p in periods])]
        wanted = [c for c in dict.fromkeys([*columns, *(where or {}), PERIOD]) if c in frame.columns]
        return frame[wanted]


def as_rows(frames: Rows | Mapping[str, pd.DataFrame]) -> Rows:
    return frames if hasattr(frames, "rows") else FrameRows(frames)


def apply_filter(frame: pd.DataFrame, conditions: Mapping[str, Any]) -> pd.DataFrame:
    """Rows whose columns equal the given values (a list means any of them)."""
    import pandas as pd

    mask = pd.Series(True, index=frame.index)
    for column, wanted in conditions.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        mask &= frame[column].isin(values)
    return frame.loc[mask]
