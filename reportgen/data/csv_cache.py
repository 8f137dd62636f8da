"""CSV files read once: a CSV source is copied to Parquet on its first read, later reads
(the next run, another report of the same process or of another one) read the copy.

The copy holds what the CSV reader returns (an empty field as NULL, an incomplete last row
left out), typed where that loses nothing, so every statement over it reads numbers and
times rather than casting ten million strings again:

* a declared number column, and the time column, are stored typed when every value that is
  not blank reads as one (finite, no placeholder such as "N/A", a whole number in an ``int``
  column; a time without an offset): the values the column contract would make of the text,
  with the same functions.  A column with one value that does not read stays text, and the
  contract counts or refuses it as it always did;
* other columns stay text, with the written forms of "no value" (NaN, N/A, NULL) read as
  NULL, as the reader of the CSV does (``csv_source._nulls_outside_numbers``);
* the text columns without control characters are listed in the copy's metadata, so nothing
  is removed from them on every read.

So the contract, the data-quality counts and their messages are those of the CSV.  Which
columns are declared numbers is part of the key, with the file's content hash (the source's
fingerprint, ``data.fingerprint``) and the reader's options: a changed file is a new key
and never reads an old copy.  A file that changes while it is copied keeps no copy.

A copy is written to a temporary name and renamed into place, so two processes copying the
same file at once each write their own and the last rename wins (they are the same bytes).
Beyond ``csv_cache.max_size`` the least recently used copies are deleted, never one used
within the last hour (a run may be reading it).  When the folder cannot be written the CSV
is read as before, with a warning; when the reader cannot read the whole file (a broken row
further down) no copy is made and the CSV itself is read, so the error names the file's
line as it always did.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen._lazy import lazy
from reportgen.data.connectors import CONTROL_CLASS, CSV_NULLS, OFFSET, PLACEHOLDERS
from reportgen.data.fingerprint import content_hash
from reportgen.data.relations import sql_literal

if TYPE_CHECKING:
    import sqlalchemy as sa

    from reportgen.definition.content_specs import SourceSpec
else:
    sa = lazy("sqlalchemy")

#: the copy's metadata key listing its text columns without control characters
PRINTABLE_KEY = "reportgen_printable"
#: the typed copy's column holding each row's data row number in the CSV (from 1)
FILE_ROW = "__reportgen_data_row__"

logger = logging.getLogger(__name__)

#: part of every key: a change of what a copy holds makes the old copies unused
FORMAT_VERSION = "3"
#: copies used within this many seconds are never pruned (a run may be reading them)
IN_USE_SECONDS = 3600
#: folder name of the default cache under the reports folder
DEFAULT_FOLDER = ".csv-cache"
DEFAULT_MAX_BYTES = 10 * 10**9


@dataclass(frozen=True)
class CsvCachePolicy:
    """Where copies go (None: CSV files are read as they are) and how much they may hold."""

    directory: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES


_lock = threading.Lock()
_policy = CsvCachePolicy()
#: what this process did: "converted", "read" (a copy was used), "skipped" (the CSV was read)
events: Counter[str] = Counter()


def configure(directory: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Keep copies in ``directory`` from now on (None: no copies)."""
    global _policy
    with _lock:
        _policy = CsvCachePolicy(directory, max_bytes)


def policy() -> CsvCachePolicy:
    with _lock:
        return _policy


@dataclass(frozen=True)
class Layout:
    """What a definition declares of a CSV's columns, which decides what its copy types.

    ``numbers``: the raw columns declared ``int`` or ``float`` (their text keeps its
    placeholders, which the contract counts); ``typed``: those of them stored typed when
    every value reads (not mapped by ``values:``); ``time``: the raw time column, stored
    typed when every time reads, unless a ``date_format`` says how it is written.
    """

    numbers: frozenset[str] = frozenset()
    typed: tuple[tuple[str, str], ...] = ()
    time: str | None = None

    @classmethod
    def of(cls, spec: SourceSpec) -> Layout:
        numbers = {spec.rename.get(col, col): kind for col, kind in spec.columns.items()
                   if kind in ("int", "float")}
        mapped = {spec.rename.get(col, col) for col in spec.values}
        time = spec.rename.get(spec.time_column, spec.time_column)
        typed = tuple(sorted((raw, kind) for raw, kind in numbers.items()
                             if raw not in mapped and raw != time))
        return cls(frozenset(numbers), typed,
                   None if spec.date_format or time in mapped or time in numbers else time)

    def key(self) -> str:
        return json.dumps([sorted(self.numbers), self.typed, self.time])


@dataclass(frozen=True)
class Copy:
    """A CSV's Parquet copy and its text columns known to hold no control characters."""

    path: Path
    printable: frozenset[str]


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def parquet_copy(conn: sa.Connection, select: str, path: Path, reader: str,
                 layout: Layout | None = None) -> Copy | None:
    """The Parquet copy of what ``select`` (a read of the CSV ``path`` with options
    ``reader``) returns, typed as ``layout`` allows (None: as the reader typed it), made now
    if there is none yet; None when there is no cache or the copy cannot be made (the CSV
    is read then)."""
    import duckdb

    folder = policy().directory
    if folder is None:
        return None
    before = _stamp(path)
    key = hashlib.sha256(
        f"{FORMAT_VERSION}|{content_hash(path)}|{reader}|{layout and layout.key()}".encode())
    target = folder / f"{key.hexdigest()}.parquet"
    if target.is_file():
        with contextlib.suppress(OSError):  # its use marks it recent, for the pruning
            os.utime(target)
        try:
            printable = _printable(conn, target)
        except (duckdb.Error, sa.exc.DBAPIError):  # unreadable (a damaged file): made again
            conn.rollback()
        else:
            events["read"] += 1
            logger.debug("CSV %s read from its Parquet copy %s", path, target)
            return Copy(target, printable)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _skip(path, f"cannot create {folder} ({exc.strerror or exc})")
        return None
    stem = f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex}"
    text_copy, temporary = folder / f"{stem}.text.tmp", folder / f"{stem}.tmp"
    started = time.perf_counter()
    try:
        clean: set[str] = set()
        if layout is None:  # the reader's rows as they are (a query source's view)
            conn.exec_driver_sql(f"COPY ({select}) TO {sql_literal(str(temporary))} "
                                 "(FORMAT parquet, COMPRESSION zstd)")
        else:  # the CSV is read once, into text; the typed copy is made from that
            conn.exec_driver_sql(f"COPY ({select}) TO {sql_literal(str(text_copy))} "
                                 "(FORMAT parquet, COMPRESSION zstd)")
            typed, clean = _typed_select(conn, text_copy, layout)
            metadata = sql_literal(json.dumps(sorted(clean)))
            conn.exec_driver_sql(f"COPY ({typed}) TO {sql_literal(str(temporary))} "
                                 f"(FORMAT parquet, COMPRESSION zstd, "
                                 f"KV_METADATA {{{PRINTABLE_KEY}: {metadata}}})")
    except (duckdb.Error, sa.exc.DBAPIError) as exc:
        conn.rollback()
        for leftover in (text_copy, temporary):
            with contextlib.suppress(OSError):
                leftover.unlink()
        message = str(getattr(exc, "orig", None) or exc)
        if "INTERRUPT" in message:
            raise  # the data pass is stopping (another source failed): so does this read
        if "CSV Error" in message:  # the CSV read itself says which line is broken
            events["skipped"] += 1
            return None
        _skip(path, f"cannot write a copy to {folder} ({message.splitlines()[0]})")
        return None
    text_copy.unlink(missing_ok=True)
    if _stamp(path) != before:  # changed while copied: the copy may hold either version
        temporary.unlink(missing_ok=True)
        _skip(path, "the file changed while it was copied")
        return None
    os.replace(temporary, target)
    events["converted"] += 1
    logger.info("CSV %s copied to Parquet in %.1f s (%s)", path,
                time.perf_counter() - started, target)
    prune(folder, policy().max_bytes, keep=target)
    return Copy(target, frozenset(clean))


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def null_forms_read_as_null(column: str) -> str:
    """``column`` (a text column of a CSV read) with the written forms of "no value" (NaN,
    N/A, NULL, ...) read as NULL, under its own name."""
    listed = ", ".join(sql_literal(v) for v in CSV_NULLS if v)
    quoted = _quoted(column)
    return f"CASE WHEN {quoted} IN ({listed}) THEN NULL ELSE {quoted} END AS {quoted}"


def _typed_value(column: str, kind: str) -> str:
    """``column``'s text as the contract reads a value of ``kind``: NULL where it does not
    read (a placeholder, not a number, inf or NaN, a fraction in a whole-number column, a
    time it cannot read or one with an offset)."""
    quoted = _quoted(column)
    if kind == "time":
        # DuckDB's cast to TIMESTAMP drops an offset: such a column is read as the contract does
        return (f"CASE WHEN regexp_matches(trim({quoted}), {sql_literal(OFFSET)}) THEN NULL "
                f"ELSE TRY_CAST({quoted} AS TIMESTAMP) END")
    placeholders = ", ".join(sql_literal(v) for v in PLACEHOLDERS)
    number = (f"CASE WHEN lower(trim({quoted})) IN ({placeholders}) THEN NULL "
              f"ELSE TRY_CAST({quoted} AS DOUBLE) END")
    finite = f"CASE WHEN isfinite({number}) THEN {number} END"
    if kind == "int":
        return f"CASE WHEN TRY_CAST({finite} AS BIGINT) = {finite} THEN TRY_CAST({finite} AS BIGINT) END"
    return finite


def _cast(column: str, kind: str) -> str:
    """The typed value of a column every value of which reads (``_typed_value`` is not NULL
    for any value that is not blank): the plain cast gives the same values, for less work
    (the first read of 10M ticket rows: 56.9 CPU s against 77.3 with the guarded one)."""
    quoted = _quoted(column)
    if kind == "time":
        return f"TRY_CAST({quoted} AS TIMESTAMP)"
    if kind == "int":
        return f"TRY_CAST(TRY_CAST({quoted} AS DOUBLE) AS BIGINT)"
    return f"TRY_CAST({quoted} AS DOUBLE)"


def _typed_select(conn: sa.Connection, text_copy: Path, layout: Layout) -> tuple[str, set[str]]:
    """The statement writing the typed copy from the text copy, and its text columns without
    control characters: one pass over the text copy finds which columns read whole."""
    source = f"read_parquet({sql_literal(str(text_copy))}, file_row_number = true)"
    columns = list(conn.exec_driver_sql(f"SELECT * FROM {source} LIMIT 0").keys())
    names = [name for name in columns if name != "file_row_number"]
    candidates = {raw: kind for raw, kind in layout.typed if raw in names}
    if layout.time is not None and layout.time in names:
        candidates[layout.time] = "time"
    checks = []
    for column in names:
        quoted = _quoted(column)
        if column in candidates:  # a value written but not read keeps the column text
            checks.append(f"count(*) FILTER (trim({quoted}) <> '' AND "
                          f"({_typed_value(column, candidates[column])}) IS NULL)")
        else:
            checks.append(f"count(*) FILTER (regexp_matches({quoted}, "
                          f"{sql_literal(CONTROL_CLASS)}))")
    found = conn.exec_driver_sql(f"SELECT {', '.join(checks)} FROM {source}").one() \
        if checks else ()
    parts, printable = [], set()
    for column, count in zip(names, found, strict=True):
        quoted = _quoted(column)
        if column in candidates and not count:
            parts.append(f"{_cast(column, candidates[column])} AS {quoted}")
        elif column in layout.numbers or column in candidates:
            parts.append(quoted)  # read as text: the contract counts or refuses its values
        else:
            if not count:
                printable.add(column)
            parts.append(null_forms_read_as_null(column))
    # DuckDB may write the typed copy's rows in another order than the text copy's (9.9M
    # of 10M rows moved, one thread or two): each row keeps its place in the file, for
    # errors that name a data row
    parts.append(f"file_row_number + 1 AS {_quoted(FILE_ROW)}")
    return f"SELECT {', '.join(parts)} FROM {source}", printable


def _printable(conn: sa.Connection, copy: Path) -> frozenset[str]:
    """The text columns a copy's metadata lists as holding no control characters."""
    rows = conn.exec_driver_sql(
        f"SELECT decode(value) FROM parquet_kv_metadata({sql_literal(str(copy))}) "
        f"WHERE decode(key) = {sql_literal(PRINTABLE_KEY)}").fetchall()
    return frozenset(json.loads(rows[0][0])) if rows else frozenset()


def _skip(path: Path, why: str) -> None:
    events["skipped"] += 1
    logger.warning("CSV %s is read without a Parquet copy: %s", path, why)


def prune(folder: Path, max_bytes: int, keep: Path | None = None,
          now: float | None = None) -> int:
    """Delete the least recently used copies until the folder holds at most ``max_bytes``
    (never ``keep`` nor a copy used within ``IN_USE_SECONDS``), and temporary files left
    by an interrupted copy; returns how many files were deleted."""
    now = time.time() if now is None else now
    copies: list[tuple[float, int, Path]] = []
    deleted = 0
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            with contextlib.suppress(OSError):
                info = entry.stat()
                if entry.suffix == ".tmp" and now - info.st_mtime > IN_USE_SECONDS:
                    entry.unlink()
                    deleted += 1
                elif entry.suffix == ".parquet":
                    copies.append((info.st_mtime, info.st_size, entry))
    total = sum(size for _, size, _ in copies)
    for used, size, entry in sorted(copies, key=lambda c: c[0]):  # least recently used first
        if total <= max_bytes:
            break
        if entry == keep or now - used < IN_USE_SECONDS:
            continue
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            deleted += 1
        total -= size
    return deleted
