"""What every source does after its connector has read the raw rows.

Connectors read only the columns asked for (by their name in the data) and, where they can,
only the rows of the window.  Here the rows are fitted to the definition: columns renamed,
values mapped, the column contract checked, timestamps made aware in the report's timezone,
and rows outside the window dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from reportgen.definition.models import SourceSpec
from reportgen.errors import MissingColumnsError, SourceError
from reportgen.registry import Registry


@dataclass(frozen=True)
class Window:
    """The instants to load: ``[start, end)``, timezone-aware."""

    start: datetime
    end: datetime

    def naive_in(self, tz: str) -> tuple[datetime, datetime]:
        from reportgen.period import zone

        z = zone(tz)
        return (self.start.astimezone(z).replace(tzinfo=None),
                self.end.astimezone(z).replace(tzinfo=None))


@dataclass(frozen=True)
class RawFrame:
    """A connector's answer: the rows read, and every column the data offers."""

    frame: pd.DataFrame
    available: Sequence[str]
    file: str | None
    windowed: bool = False


class Connector(Protocol):
    def read(self, name: str, spec: SourceSpec, columns: Sequence[str], window: Window,
             base_dir: Path) -> RawFrame: ...


SOURCES: Registry[Connector] = Registry(
    "source kind", "reportgen.sources",
    builtins=("reportgen.sources.files", "reportgen.sources.sql"),
)


@dataclass(frozen=True)
class LoadedSource:
    name: str
    frame: pd.DataFrame
    sha256: str
    file: str | None


def resolve(base_dir: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base_dir / candidate)


def fetch_source(name: str, spec: SourceSpec, needed: Iterable[str], window: Window,
                 base_dir: Path, report_timezone: str) -> LoadedSource:
    """Load source ``name`` fitted to its contract, restricted to ``needed`` columns and ``window``."""
    ours = list(dict.fromkeys([spec.time_column, *spec.columns, *needed]))
    raw_names = [spec.rename.get(col, col) for col in ours]
    connector: Connector = SOURCES.instance(spec.kind)
    raw = connector.read(name, spec, raw_names, window, base_dir)
    missing = [col for col, raw_name in zip(ours, raw_names, strict=True)
               if raw_name not in raw.frame.columns]
    if missing:
        shown = [spec.rename.get(c, c) for c in missing]
        labels = [f"{c} (renamed from '{r}')" if c != r else c for c, r in zip(missing, shown, strict=True)]
        raise MissingColumnsError(name, labels, list(raw.available), raw.file)
    frame = raw.frame[raw_names].copy()
    frame.columns = ours
    for column, mapping in spec.values.items():
        if column in frame.columns:
            frame[column] = _map_values(frame[column], mapping)
    frame[spec.time_column] = _parse_times(frame[spec.time_column], name, spec, raw.file,
                                           report_timezone)
    times = frame[spec.time_column]
    # Row labels still count the connector's rows here, so errors name the data row.
    frame = frame.loc[(times >= window.start) & (times < window.end)]
    for column, kind in spec.columns.items():
        if column != spec.time_column:
            frame[column] = _coerce(frame[column], kind, name, column, raw.file)
    frame = frame.reset_index(drop=True)
    return LoadedSource(name=name, frame=frame, sha256=frame_hash(frame), file=raw.file)


def frame_hash(frame: pd.DataFrame) -> str:
    """A content hash of the rows a report used (for provenance and regeneration checks)."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _map_values(series: pd.Series, mapping: dict) -> pd.Series:
    as_text = {str(k).strip().lower(): v for k, v in mapping.items()}

    def convert(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return value
        if value in mapping:
            return mapping[value]  # type: ignore[index]
        return as_text.get(str(value).strip().lower(), value)

    return series.map(convert)


def _parse_times(series: pd.Series, name: str, spec: SourceSpec, file: str | None,
                 report_timezone: str) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series):
        parsed = series
    else:
        try:
            parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        except (ValueError, TypeError):
            parsed = series.iloc[0:0]
        if not pd.api.types.is_datetime64_any_dtype(parsed) or len(parsed) != len(series):
            # Offsets that differ row to row (DST in exported local times): read as UTC.
            parsed = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
    _raise_on_bad(series, parsed, name, spec.time_column, file,
                  "a date and time such as 2026-10-03 14:22:05 (time column)")
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(spec.timezone, ambiguous="NaT", nonexistent="shift_forward")
    return parsed.dt.tz_convert(report_timezone)


def _coerce(series: pd.Series, kind: str, name: str, column: str, file: str | None) -> pd.Series:
    if kind in ("str", "category"):
        text = series.astype("string")
        return text.astype("category") if kind == "category" else text
    if kind == "datetime":
        parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        _raise_on_bad(series, parsed, name, column, file, "a date")
        return parsed
    if kind == "bool":
        truth = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False,
                 "y": True, "n": False, "t": True, "f": False}
        mapped = series.map(lambda v: v if isinstance(v, bool) or pd.isna(v)
                            else truth.get(str(v).strip().lower().removesuffix(".0")))
        _raise_on_bad(series, mapped, name, column, file, "true/false (1/0, yes/no)")
        return mapped.astype("boolean")
    numbers = pd.to_numeric(series, errors="coerce")
    _raise_on_bad(series, numbers, name, column, file, "a number" if kind == "float" else "a whole number")
    if kind == "int":
        fractional = numbers.notna() & (numbers % 1 != 0)
        if fractional.any():
            _raise_on_bad(series, numbers.where(~fractional), name, column, file, "a whole number")
        return numbers.astype("Int64")
    return numbers.astype(float)


def _raise_on_bad(original: pd.Series, converted: pd.Series, name: str, column: str,
                  file: str | None, expected: str) -> None:
    bad = converted.isna() & original.notna() & (original.astype("string").str.strip() != "")
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        row = original.index[position]
        row_text = f"data row {row + 1}" if isinstance(row, int | np.integer) else f"row {row}"
        raise SourceError(
            name,
            f"column '{column}': expected {expected}, found {original.iloc[position]!r} in "
            f"{row_text} ({int(bad.sum())} such value(s))",
            file,
        )
