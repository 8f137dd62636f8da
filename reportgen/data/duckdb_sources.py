"""Sources DuckDB reads in its embedded database: Parquet and Excel files, and DuckDB queries.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen._lazy import lazy
from reportgen.data import csv_cache
from reportgen.data.connectors import SOURCES, RawRelation, existing_file, resolve
from reportgen.data.relations import (
    driver_connection,
    duckdb_connection,
    duckdb_error,
    fence,
    file_view,
    only_a_select,
    query_relation,
    raise_if_out_of_memory,
    run_setup,
    sql_literal,
)
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import SourceError

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy("sqlalchemy")  # only a run needs it: ``validate`` checks source kinds by name


@SOURCES.register("parquet")
class ParquetConnector:
    """A Parquet file (or a glob of them) read by DuckDB, with the file's own types."""

    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        path = existing_file(name, spec, base_dir)
        conn = duckdb_connection()
        return file_view(conn, name, spec, f"SELECT * FROM read_parquet({sql_literal(str(path))})",
                     str(path), allowed=[path])


@SOURCES.register("excel")
class ExcelConnector:
    """One sheet of an .xlsx workbook.  Workbooks are small: pandas reads the sheet and
    DuckDB queries it like any other source."""

    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        import pandas as pd

        path = existing_file(name, spec, base_dir)
        sheet = spec.sheet if spec.sheet is not None else 0
        try:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object)
        except ValueError as exc:  # unknown sheet names arrive as ValueError
            raise SourceError(name, f"cannot read sheet {sheet!r} ({exc})", str(path)) from None
        frame.columns = [str(c) for c in frame.columns]
        # every cell as text (or missing): the contract types it, as for a CSV
        frame = frame.map(lambda v: None if v is None or (isinstance(v, float) and v != v)
                          else v.isoformat(sep=" ") if hasattr(v, "isoformat") else str(v))
        conn = duckdb_connection()
        driver_connection(conn).register("excel_sheet", frame)
        return file_view(conn, name, spec, 'SELECT * FROM "excel_sheet"', str(path),
                     text_typed=True)


@SOURCES.register("duckdb")
class DuckDbConnector:
    """A DuckDB query over data files (declared in ``files``) or a DuckDB database file."""

    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        import duckdb

        assert spec.query is not None
        label = str(resolve(base_dir, spec.path)) if spec.path else None
        conn = duckdb_connection()
        copies: list[Path] = []
        try:
            if spec.path:
                database = resolve(base_dir, spec.path)
                if not database.is_file():
                    raise SourceError(name, f"DuckDB database not found: {database}", str(database))
                run_setup(conn, f"ATTACH {sql_literal(str(database))} AS source (READ_ONLY)")
                run_setup(conn, "USE source")
            for view, file in spec.files.items():
                path = resolve(base_dir, file)
                if not path.is_file():
                    raise SourceError(name, f"file for view '{view}' not found: {path}", str(path))
                reader = "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv_auto"
                select = f"SELECT * FROM {reader}({sql_literal(str(path))})"
                if reader == "read_csv_auto":  # read once, as a CSV source is
                    copy = csv_cache.parquet_copy(conn, select, path, reader)
                    if copy is not None:
                        select = f"SELECT * FROM read_parquet({sql_literal(str(copy.path))})"
                        copies.append(copy.path)
                quoted = '"' + view.replace('"', '""') + '"'
                run_setup(conn, f"CREATE TEMP VIEW {quoted} AS {select}")
        except (duckdb.Error, sa.exc.DBAPIError) as exc:
            conn.close()
            raise_if_out_of_memory(exc, name, label)
            raise SourceError(name, f"cannot open the data ({duckdb_error(exc)})", label) from None
        except SourceError:
            conn.close()
            raise
        allowed = [*(resolve(base_dir, f) for f in spec.files.values()), *copies]
        if spec.path:
            allowed.append(resolve(base_dir, spec.path))
        try:
            only_a_select(conn, name, spec.query, label)
            run_setup(conn, f"SET TimeZone = {sql_literal(spec.timezone)}")
            fence(conn, allowed)
        except SourceError:
            conn.close()
            raise
        query = re.sub(r"\$(start|end)\b", r":\1", spec.query)
        params = {k: v for k, v in zip(("start", "end"), bounds, strict=True)
                  if re.search(rf":{k}\b", query)}
        return query_relation(conn, name, query, params, label, "naive", duckdb_types=True)
