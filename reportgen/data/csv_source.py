"""CSV files, read by DuckDB with every field as text (the column contract types them).

An export that was cut short ends in the middle of its last row: that row is left out and
counted (the data-quality note says "1 incomplete last row dropped"), never kept with
empty fields.  A short or broken row anywhere else is an error naming its line.  A cut
inside the last field of a row that still has all its fields cannot be told from a file
written without a final line break, and is read as it stands.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen._lazy import lazy
from reportgen.data import csv_cache
from reportgen.data.connectors import SOURCES, RawRelation, existing_file
from reportgen.data.relations import duckdb_connection, duckdb_error, file_view, sql_literal
from reportgen.data.resources import is_out_of_memory, out_of_memory, policy
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import SourceError

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy("sqlalchemy")

#: the longest CSV line read (DuckDB's default is 2 MB)
MAX_LINE_BYTES = 4 * 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")


def _mixed_encoding(path: Path) -> bool:
    """Whether the start of a file that is not valid UTF-8 holds UTF-8 characters too (a
    damaged UTF-8 file, not a Latin-1 one)."""
    with path.open("rb") as handle:
        sample = handle.read(1 << 20)
    return re.search(rb"[\xc2-\xf4][\x80-\xbf]+", sample) is not None


def _final_line(path: Path) -> tuple[int, bytes] | None:
    """(offset, bytes) of the text after the file's last line break; None when the file
    ends with one (its last row is complete) or the last line is longer than any read."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - MAX_LINE_BYTES))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    cut = tail.rfind(b"\n")
    if cut < 0 and size > len(tail):
        return None
    return size - len(tail) + cut + 1, tail[cut + 1:]


@SOURCES.register("csv")
class CsvConnector:
    """A CSV file read by DuckDB, every field as text: the column contract types it."""

    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        import duckdb

        path = existing_file(name, spec, base_dir)
        # NaN, null, N/A ... in a number column are counted (as placeholders), so the file is
        # read with only an empty field as NULL; the other columns take them as NULL below
        nulls = "['']"
        conn = duckdb_connection()
        # buffers sized so that every thread's fit in the memory limit (DuckDB's own size,
        # 16 lines, is 64 MiB each with lines of 4 MiB)
        buffer = policy().csv_buffer_bytes(MAX_LINE_BYTES)
        final = _final_line(path)
        columns: list[str] = []
        found: str | None = None
        for encoding in ("utf-8", "latin-1"):
            # a long free-text field (a comment, a pasted log) is data, not a broken file
            options = (f"{sql_literal(str(path))}, header = true, all_varchar = true, "
                       f"nullstr = {nulls}, encoding = {sql_literal(encoding)}, "
                       f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {buffer}")
            try:
                # reading the header and a sample tells a malformed or mis-encoded file early
                columns = list(conn.exec_driver_sql(
                    f"SELECT * FROM read_csv({options}) LIMIT 1").keys())
                break
            except (duckdb.Error, sa.exc.DBAPIError) as exc:
                if is_out_of_memory(exc):
                    conn.close()
                    raise out_of_memory(name, str(path)) from None
                message = duckdb_error(exc)
                full = str(getattr(exc, "orig", None) or exc).lower()
                # a Latin-1 export is read as such; UTF-8 with damaged bytes is refused
                if encoding == "utf-8" and "unicode" in full and not _mixed_encoding(path):
                    conn.rollback()
                    continue
                conn.rollback()
                if final is not None:
                    found = _rejected(conn, options, final, encoding, path, name)
                if found == "last":
                    break  # the sample failed on the cut row: read without it (below)
                conn.close()
                raise SourceError(name, f"cannot read the CSV ({message})", str(path)) from None
        # a cut row, or a short row in a small file (DuckDB then takes the whole header
        # for one column), is looked for row by row; other files are not read twice
        misread = len(columns) == 1 and any(d in columns[0] for d in _DELIMITERS)
        if found is None and (final is not None or misread):
            found = _rejected(conn, options, final, encoding, path, name)
        if found is not None and found != "last":
            conn.close()
            raise SourceError(name, f"cannot read the CSV ({found})", str(path))
        unread = 1 if found == "last" else 0
        reader = f"{options}{', ignore_errors = true' if unread else ''}"
        select = f"SELECT * FROM read_csv({reader})"
        allowed = [path]
        # read once: later reads take the Parquet copy of what this read returns, typed
        # where that loses nothing
        layout = csv_cache.Layout.of(spec)
        copy = csv_cache.parquet_copy(conn, select, path,
                                      f"{encoding}|{nulls}|{MAX_LINE_BYTES}|{unread}", layout)
        if copy is not None:
            select = f"SELECT * FROM read_parquet({sql_literal(str(copy.path))})"
            allowed.append(copy.path)
        else:
            select = _nulls_outside_numbers(conn, layout.numbers, select)
        relation = file_view(conn, name, spec, select, str(path), text_typed=True,
                         unread_rows=unread, allowed=allowed)
        if copy is not None:
            relation.printable = copy.printable
            relation.finite = frozenset(raw for raw, _ in layout.typed
                                        if relation.native.get(raw) == "number")
            if csv_cache.FILE_ROW in relation.available:  # no data column: it numbers rows
                relation.available.remove(csv_cache.FILE_ROW)
                relation.data_row = relation.table.c[csv_cache.FILE_ROW]

        def locate() -> str | None:
            relation.connection.rollback()
            where = _rejected(relation.connection, options, final, encoding, path, name)
            return None if where == "last" else where

        relation.locate = locate
        return relation


def _nulls_outside_numbers(conn: Any, numbers: frozenset[str], select: str) -> str:
    """``select`` with the written forms of "no value" (NaN, N/A, NULL, ...) read as NULL in
    every column but the declared number columns (``numbers``, raw names), where the
    contract counts them."""
    import duckdb

    try:
        names = list(conn.exec_driver_sql(f"SELECT * FROM ({select}) LIMIT 0").keys())
    except (duckdb.Error, sa.exc.DBAPIError):
        conn.rollback()
        return select  # the view says what is wrong, with the file named
    parts = ['"' + column.replace('"', '""') + '"' if column in numbers
             else csv_cache.null_forms_read_as_null(column) for column in names]
    return f"SELECT {', '.join(parts)} FROM ({select})"


def _rejected(conn: Any, options: str, final: tuple[int, bytes] | None,
              encoding: str, path: Path, name: str) -> str | None:
    """What a read that sets broken rows aside finds: "last" when the only one is the
    file's incomplete last row, the first other one as "line N of the file: why", or None
    (none found, or the file cannot be read even so)."""
    import duckdb

    try:
        conn.exec_driver_sql(
            f"SELECT count(*) FROM read_csv({options}, ignore_errors = true, store_rejects = "
            "true, rejects_table = 'reportgen_rejects', rejects_scan = 'reportgen_scans')"
        ).fetchall()
        rows = conn.exec_driver_sql(
            "SELECT min(line_byte_position), max(byte_position), "
            "arg_min(error_message, column_idx), arg_min(csv_line, column_idx) "
            "FROM reportgen_rejects GROUP BY line ORDER BY line"
        ).fetchall()
    except (duckdb.Error, sa.exc.DBAPIError) as exc:
        conn.rollback()
        if is_out_of_memory(exc):
            conn.close()  # the database goes, and its rejects tables with it
            raise out_of_memory(name, str(path)) from None
        return None
    finally:
        if not conn.closed:
            for table in ("reportgen_rejects", "reportgen_scans"):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    if not rows:
        return None
    for start, position, why, text in rows:
        last = (final is not None and int(position or 0) > final[0]
                and str(text).strip("\r\n") == final[1].decode(encoding, "replace").strip("\r\n"))
        if not last:
            return f"line {_line_at(path, int(start or 0)):,} of the file: {str(why).rstrip('.')}"
    return "last"


def _line_at(path: Path, offset: int) -> int:
    """The line of the file (counted from 1) that starts at byte ``offset``: DuckDB numbers
    rows, and a quoted field with line breaks makes a row longer than one line."""
    count, left = 1, offset
    with path.open("rb") as handle:
        while left > 0:
            chunk = handle.read(min(left, 1 << 20))
            if not chunk:
                break
            count += chunk.count(b"\n")
            left -= len(chunk)
    return count
