"""File connectors: CSV, Excel (xlsx) and Parquet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reportgen.definition.models import SourceSpec
from reportgen.errors import SourceError
from reportgen.sources.base import SOURCES, RawFrame, Window, resolve


def _existing(name: str, spec: SourceSpec, base_dir: Path) -> Path:
    assert spec.path is not None
    path = resolve(base_dir, spec.path)
    if not path.is_file():
        raise SourceError(name, f"file not found: {path}", str(path))
    return path


@SOURCES.register("csv")
class CsvConnector:
    """Reads a CSV file (any encoding pandas can sniff as UTF-8 or Latin-1)."""

    def read(self, name: str, spec: SourceSpec, columns: Sequence[str], window: Window,
             base_dir: Path) -> RawFrame:
        path = _existing(name, spec, base_dir)
        try:
            header = list(pd.read_csv(path, nrows=0).columns)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise SourceError(name, f"cannot read the CSV header ({exc})", str(path)) from None
        wanted = [c for c in columns if c in header]
        try:
            frame = pd.read_csv(path, usecols=wanted, dtype=object, keep_default_na=True)
        except pd.errors.ParserError as exc:
            raise SourceError(name, f"malformed CSV ({exc})", str(path)) from None
        return RawFrame(frame, header, str(path))


@SOURCES.register("excel")
class ExcelConnector:
    """Reads one sheet of an .xlsx workbook."""

    def read(self, name: str, spec: SourceSpec, columns: Sequence[str], window: Window,
             base_dir: Path) -> RawFrame:
        path = _existing(name, spec, base_dir)
        sheet = spec.sheet if spec.sheet is not None else 0
        try:
            header = list(pd.read_excel(path, sheet_name=sheet, nrows=0).columns)
            wanted = [c for c in columns if c in header]
            frame = pd.read_excel(path, sheet_name=sheet, usecols=wanted)
        except ValueError as exc:  # unknown sheet names arrive as ValueError
            raise SourceError(name, f"cannot read sheet {sheet!r} ({exc})", str(path)) from None
        return RawFrame(frame, [str(c) for c in header], str(path))


@SOURCES.register("parquet")
class ParquetConnector:
    """Reads the needed columns of a Parquet file."""

    def read(self, name: str, spec: SourceSpec, columns: Sequence[str], window: Window,
             base_dir: Path) -> RawFrame:
        import pyarrow.parquet as pq

        path = _existing(name, spec, base_dir)
        try:
            available = list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise SourceError(name, f"not a readable Parquet file ({exc})", str(path)) from None
        wanted = [c for c in columns if c in available]
        frame = pq.read_table(path, columns=wanted).to_pandas()
        return RawFrame(frame, available, str(path))
