"""Scale the seeded demo data to about N rows per table, as CSV, Parquet and SQLite.

    python benchmarks/scale_data.py --rows-per-source 10000000 --out DIR [--seed 7]
        [--formats csv,parquet,sqlite] [--tables tickets,...] [--keep-ratios]

The demo data (``reportgen demo``, 13 months ending 2026-09) is generated once at its own
size, then every table is copied in DuckDB until it has about N rows, so 10M or 100M rows
never pass through Python memory (except on their way into SQLite, batch by batch).

* Copy 0 of a row is the original row; copy k > 0 suffixes its own ID with ``-r<k>`` and
  moves its timestamps by a seeded jitter of at most 15 minutes that never leaves their
  calendar month, so the monthly and quarterly distributions and the planted stories keep
  their shape.  Below the demo size a seeded sample is taken instead.
* Keys still join: a copied response or review references a ticket copy that exists, a
  copied rating a review copy that exists; ratings of one review and raters of one
  calibration item are copied together.  Calibration items keep their own ticket copy
  (``ticket_id-r<k>``) so that no two items merge; without ``--keep-ratios`` that ticket
  copy may not exist in ``tickets``.
* By default every table gets about N rows, so a ticket copy can carry several responses
  or reviews when the child table needed more copies than ``tickets`` (the demo has one
  response at most per ticket).
  ``--keep-ratios`` copies every table by the factor that brings ``tickets`` to N
  instead, so responses per ticket, ratings per review etc. stay as in the demo.

The layout is that of ``reportgen demo`` (``reportgen_demo.sqlite`` with the same schema,
views and indexes, ``<table>.csv``, ``stories.json``) plus ``<table>.parquet``, so the
example definitions run unchanged on DIR.  Prints, per format, the rows written and the
seconds taken.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reportgen.demo import generate_demo_data  # noqa: E402
from reportgen.demo.writer import (  # noqa: E402
    INDEXES,
    SCHEMA,
    SQLITE_NAME,
    VIEWS,
    atomic_path,
    columns,
)

END_MONTH = date(2026, 9, 1)
MONTHS = 13
FORMATS = ("csv", "parquet", "sqlite")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
JITTER_SECONDS = 15 * 60
SQLITE_BATCH_ROWS = 100_000
# Rows of one month copied together (see Scaler._plan): small enough that the list of
# slices to copy fills several DuckDB row groups, so two threads share the work.
SLICE_ROWS = 64
# Enough for DuckDB's joins and sorts on a laptop; beyond it DuckDB spills to disk.
DEFAULT_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class TableCopy:
    """How one demo table is copied."""

    name: str
    unit: str  # SQL expression: rows sharing it are copied (or dropped) together
    own_ids: tuple[str, ...] = ()  # suffixed with the row's own copy number
    parent: str | None = None  # the table whose rows this one references
    parent_key: str | None = None  # the referencing column, same name as the parent's ID
    times: tuple[str, ...] = ()  # 'YYYY-MM-DD HH:MM:SS' columns moved by the jitter
    month_of: str | None = None  # the date or time whose month orders the output (else
    # the parent's)
    # False: each copy references its own parent copy (``<id>-r<k>``) so that copies never
    # share a parent row, even where that parent copy does not exist (see TABLE_COPIES).
    must_resolve: bool = True
    # True: a row is copied exactly as often as its parent row, each copy on its own parent
    # copy (a table holding at most one row per parent, which copies must keep).
    follows_parent: bool = False

    @property
    def jitter_key(self) -> str:
        return self.own_ids[0] if self.own_ids else self.unit


# Parents before children: a child's plan needs its parent's copy counts.
TABLE_COPIES: tuple[TableCopy, ...] = (
    TableCopy("tickets", "ticket_id", ("ticket_id",), times=("created_at", "solved_at"),
              month_of="created_at"),
    TableCopy("csat_responses", "response_id", ("response_id",), "tickets", "ticket_id",
              ("responded_at",), "responded_at"),
    TableCopy("qa_reviews", "review_id", ("review_id",), "tickets", "ticket_id",
              ("reviewed_at",), "reviewed_at"),
    TableCopy("qa_ratings", "review_id", (), "qa_reviews", "review_id"),
    # One calibration item is a ticket scored by several raters in a session, and the
    # reports key items by ticket_id alone: two item copies on one ticket copy would merge
    # into one item with twice the raters.  Calibration tables need ~20x more copies than
    # tickets, so without --keep-ratios their ticket_id need not resolve.
    TableCopy("calibration_scores", "session_id || '|' || ticket_id", ("session_id",),
              "tickets", "ticket_id", month_of="session_date", must_resolve=False),
    TableCopy("calibration_reviews", "session_id || '|' || ticket_id", ("session_id",),
              "tickets", "ticket_id", month_of="session_date", must_resolve=False),
    TableCopy("moderation_decisions", "decision_id", ("decision_id",),
              times=("decided_at",), month_of="decided_at"),
    TableCopy("qa_disputes", "dispute_id", ("dispute_id",), "qa_reviews", "review_id",
              ("raised_at", "resolved_at"), "raised_at"),
    TableCopy("qa_auto_scores", "review_id", (), "qa_reviews", "review_id",
              ("reviewed_at",), "reviewed_at"),
    # A ticket is drawn for audit once, scored by the automatic scorer once and has one
    # follow-up row: like calibration items, a copy keeps its own ticket copy so that no two
    # copies merge into one ticket, and without --keep-ratios that copy need not resolve.
    TableCopy("qa_sample", "ticket_id", (), "tickets", "ticket_id", ("drawn_at",), "drawn_at",
              must_resolve=False),
    TableCopy("qa_auto_only", "ticket_id", (), "tickets", "ticket_id", ("scored_at",),
              "scored_at", must_resolve=False),
    TableCopy("ticket_followups", "ticket_id", (), "tickets", "ticket_id", ("solved_at",),
              "solved_at", must_resolve=False),
    # Reviewers' re-ratings of tickets only the automatic scorer rated: rows of one ticket
    # are copied together, each copy on its own ticket copy as in qa_auto_only.
    TableCopy("qa_auto_checks", "ticket_id", (), "tickets", "ticket_id", ("checked_at",),
              "checked_at", must_resolve=False),
    # One language per ticket: a copy is the language of its own ticket copy, so a ticket
    # copy never has two languages (copies going round the parent's would repeat its key).
    TableCopy("ticket_languages", "ticket_id", (), "tickets", "ticket_id",
              follows_parent=True),
    TableCopy("contact_archive", "contact_id", ("contact_id",), month_of="month"),
)
BY_NAME = {spec.name: spec for spec in TABLE_COPIES}
# A table in CSV and Parquet, a view in SQLite: ratings joined to their review's columns.
JOINED = "qa_review_ratings"
TABLES = (*BY_NAME, JOINED)
# SQLite declared types -> DuckDB types (the demo writer only uses these three).
_DUCK_TYPES = {"TEXT": "VARCHAR", "INTEGER": "BIGINT", "REAL": "DOUBLE"}


@dataclass(frozen=True)
class Written:
    """One file (or SQLite table) written."""

    format: str
    table: str
    rows: int
    seconds: float
    path: Path


def duck_type(declared: str) -> str:
    return _DUCK_TYPES[declared.split()[0]]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _suffixed(column: str, copy: str) -> str:
    return f"CASE WHEN {copy} = 0 THEN {column} ELSE {column} || '-r' || {copy} END"


def _parsed(column: str) -> str:
    """Name of the plan column holding ``column`` parsed as a TIMESTAMP."""
    return f"_t_{column}"


def _shifted(column: str, seconds: str, prefix: str = "") -> str:
    # A whole-second TIMESTAMP casts to 'YYYY-MM-DD HH:MM:SS', at half strftime's cost.
    return (f"CASE WHEN {seconds} = 0 THEN {prefix}{column} ELSE "
            f"CAST({prefix}{_parsed(column)} + to_seconds({seconds}) AS VARCHAR) END")


def _time_columns(table: str) -> tuple[str, ...]:
    """The 'YYYY-MM-DD HH:MM:SS' columns of ``table`` (a joined table has its review's)."""
    return BY_NAME["qa_reviews"].times if table == JOINED else BY_NAME[table].times


def _month_bounds(times: Sequence[str]) -> tuple[str, str]:
    """SQL for how far (seconds) every timestamp of a row can move back / on in its month."""
    if not times:
        return "0", "0"
    lows, highs = [], []
    for column in times:
        at = f"strptime({column}, {_quote(TIME_FORMAT)})"
        start = f"date_trunc('month', {at})"
        lows.append(f"CAST(epoch({start}) - epoch({at}) AS BIGINT)")
        highs.append(f"CAST(epoch({start} + INTERVAL 1 MONTH) - epoch({at}) - 1 AS BIGINT)")
    # greatest/least skip NULLs, so an unsolved ticket is bounded by created_at alone.
    return f"greatest({', '.join(lows)})", f"least({', '.join(highs)})"


class Scaler:
    """The copy plan of every demo table in one DuckDB connection, and its writers."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, demo_dir: Path, rows: int,
                 seed: int, keep_ratios: bool) -> None:
        self.db = connection
        self.seed = seed
        # The copies are only in output order if the join of driver and slices probes from
        # the driver; DuckDB's optimizer would probe from the wider slices table.
        try:
            self.db.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
        except duckdb.Error:  # DuckDB < 1.1 has no build_side_probe_side and never swaps
            self.db.execute("SET disabled_optimizers = 'join_order'")
        span = 2 * JITTER_SECONDS + 1
        # Copy 0 keeps its timestamps; other copies move by a seeded amount clamped to the
        # row's month.  hash() is DuckDB's own, so a DuckDB upgrade may change the jitter.
        self.db.execute(
            f"CREATE MACRO jitter(key, copy, lo, hi) AS CASE WHEN copy = 0 THEN 0 ELSE "
            f"greatest(lo, least(hi, CAST(hash({seed}, key, copy) % {span} AS BIGINT) "
            f"- {JITTER_SECONDS})) END")
        self.base_rows: dict[str, int] = {}
        for spec in TABLE_COPIES:
            self._load(spec, demo_dir / f"{spec.name}.csv")
        factor = rows / self.base_rows["tickets"] if keep_ratios else None
        for spec in TABLE_COPIES:
            self._plan(spec, rows, factor)

    def _load(self, spec: TableCopy, path: Path) -> None:
        types = ", ".join(f"{_quote(name)}: {_quote(duck_type(kind))}"
                          for name, kind in SCHEMA[spec.name])
        self.db.execute(
            f"CREATE TABLE base_{spec.name} AS SELECT *, row_number() OVER () AS _row "
            f"FROM read_csv({_quote(str(path))}, "
            f"header = true, auto_detect = false, columns = {{{types}}}, nullstr = '', "
            f"quote = '\"', escape = '\"', delim = ',')")
        (count,) = self._one(f"SELECT count(*) FROM base_{spec.name}")
        self.base_rows[spec.name] = count

    def _plan(self, spec: TableCopy, rows: int, factor: float | None) -> None:
        """plan_<table>: each demo row with its number of copies ``_n`` (0 drops it)."""
        low, high = _month_bounds(spec.times)
        uniform = f"hash({self.seed}, {_quote(spec.name)}, {spec.unit}) % 4294967296 / 4294967296.0"
        parent_copies, join = "CAST(NULL AS BIGINT)", ""
        parsed = "".join(f", strptime({column}, {_quote(TIME_FORMAT)}) AS {_parsed(column)}"
                         for column in spec.times)
        month = (f"date_trunc('month', CAST(b.{spec.month_of} AS TIMESTAMP))"
                 if spec.month_of else "p._month")
        if spec.parent:
            parent_copies = "p._n"
            join = (f"LEFT JOIN plan_{spec.parent} AS p "
                    f"ON p.{spec.parent_key} = b.{spec.parent_key}")
        self.db.execute(
            f"CREATE TEMP TABLE pre_{spec.name} AS SELECT b.*, {parent_copies} AS _np, "
            f"{month} AS _month "
            f"FROM (SELECT *, {uniform} AS _u, {low} AS _lo, {high} AS _hi {parsed} "
            f"FROM base_{spec.name}) AS b {join} ORDER BY b._row")
        eligible = "_np >= 1" if spec.parent and spec.must_resolve else "true"
        if spec.parent and (factor is not None or spec.follows_parent):
            copies = "coalesce(_np, 0)"  # a child follows its parent, copy for copy
        else:
            if factor is not None:
                per_row = factor
            else:
                (candidates,) = self._one(f"SELECT count(*) FROM pre_{spec.name} WHERE {eligible}")
                per_row = rows / candidates if candidates else 0.0
            whole = int(per_row)
            copies = (f"CASE WHEN {eligible} THEN {whole} + CAST(_u < {per_row - whole!r} "
                      f"AS BIGINT) ELSE 0 END")
        self.db.execute(f"CREATE TABLE plan_{spec.name} AS SELECT *, {copies} AS _n "
                        f"FROM pre_{spec.name} ORDER BY _row")
        # Output order: month by month (as real exports are roughly sorted by time), and
        # within a month copy 0 of every row in demo order, then copy 1, ... so that
        # neighbouring rows differ as in real data (copies side by side would compress
        # unrealistically well).  The rows of a month are cut into slices of SLICE_ROWS,
        # each held as one list; a driver table lists (month, copy, slice) in that order,
        # and every driver row unnests its slice's rows that have that copy.  Both tables
        # are stored in output order, whichever side the join probes from.
        self.db.execute(
            f"CREATE TEMP TABLE slices_{spec.name} AS SELECT _month, _slice, max(_n) AS _top, "
            f"list(p ORDER BY p._row) AS _rows FROM (SELECT *, dense_rank() OVER "
            f"(ORDER BY _month, (_row - 1) // {SLICE_ROWS}) AS _slice "
            f"FROM plan_{spec.name}) AS p GROUP BY _month, _slice ORDER BY _slice")
        self.db.execute(
            f"CREATE TEMP TABLE driver_{spec.name} AS SELECT _month, _copy, _slice FROM "
            f"(SELECT _month, _slice, unnest(range(_top)) AS _copy FROM slices_{spec.name}) "
            f"ORDER BY _month, _copy, _slice")
        # _k: this copy; _m: the parent's copy it references (a child needing more copies
        # than its parent has goes round them again); _d: its jitter in seconds.
        parent_copy = ("CAST(NULL AS BIGINT)" if not spec.parent
                       else "_k" if (factor is not None or not spec.must_resolve
                                     or spec.follows_parent)
                       else "_k % _np")
        self.db.execute(
            f"CREATE VIEW copies_{spec.name} AS SELECT *, {parent_copy} AS _m, "
            f"jitter({spec.jitter_key}, _k, _lo, _hi) AS _d FROM ("
            f"SELECT _k, unnest(_row) FROM (SELECT d._copy AS _k, unnest(s._rows) AS _row "
            f"FROM driver_{spec.name} AS d JOIN slices_{spec.name} AS s "
            f"ON s._slice = d._slice) WHERE _row._n > _k)")

    def _one(self, sql: str) -> tuple[int]:
        row = self.db.execute(sql).fetchone()
        assert row is not None
        return row  # type: ignore[return-value]

    def query(self, table: str) -> str:
        """SELECT of every copied row of ``table`` in the demo's column order."""
        if table == JOINED:
            return self._joined_query()
        spec = BY_NAME[table]
        outputs = []
        for name in columns(table):
            if name in spec.own_ids:
                outputs.append(f"{_suffixed(name, '_k')} AS {name}")
            elif name == spec.parent_key:
                outputs.append(f"{_suffixed(name, '_m')} AS {name}")
            elif name in spec.times:
                outputs.append(f"{_shifted(name, '_d')} AS {name}")
            else:
                outputs.append(name)
        return f"SELECT {', '.join(outputs)} FROM copies_{table}"

    def _joined_query(self) -> str:
        # The review columns of a rating copy are those of the review copy it references,
        # jittered exactly as qa_reviews' own copy (same key, copy number and bounds).
        review = BY_NAME["qa_reviews"]
        outputs = []
        for name in columns(JOINED):
            if name == "review_id":
                outputs.append(f"{_suffixed('r.review_id', 'r._m')} AS review_id")
            elif name in review.times:
                moved = f"jitter(v.{review.jitter_key}, r._m, v._lo, v._hi)"
                outputs.append(f"{_shifted(name, moved, 'v.')} AS {name}")
            elif name in dict(SCHEMA["qa_ratings"]):
                outputs.append(f"r.{name}")
            else:
                outputs.append(f"v.{name}")
        return (f"SELECT {', '.join(outputs)} FROM copies_qa_ratings AS r "
                f"JOIN plan_qa_reviews AS v ON v.review_id = r.review_id")

    def write_file(self, table: str, path: Path, file_format: str) -> int:
        """COPY ``table`` to a CSV or Parquet file, atomically; the number of rows."""
        options = ("FORMAT csv, HEADER true" if file_format == "csv"
                   else "FORMAT parquet")  # Snappy, DuckDB's and pyarrow's default
        query = self.query(table)
        times = _time_columns(table)
        if file_format == "parquet" and times:
            # Parquet holds times typed, as real Parquet exports do (a CSV has only text)
            typed = ", ".join(f"CAST({name} AS TIMESTAMP) AS {name}" for name in times)
            query = f"SELECT * REPLACE ({typed}) FROM ({query})"
        with atomic_path(path) as tmp:
            (count,) = self._one(f"COPY ({query}) TO {_quote(str(tmp))} ({options})")
        return count

    def batches(self, table: str) -> Iterator[Iterator[tuple[object, ...]]]:
        """The rows of ``table`` as Python tuples, in Arrow batches of ~100k rows."""
        # A relation streams (an executed DB-API result is copied whole first); DuckDB 2
        # renamed its fetch_arrow_reader to to_arrow_reader.
        relation = self.db.sql(self.query(table))
        if hasattr(relation, "to_arrow_reader"):
            reader = relation.to_arrow_reader(SQLITE_BATCH_ROWS)
        else:
            reader = relation.fetch_arrow_reader(SQLITE_BATCH_ROWS)
        for batch in reader:
            yield zip(*(column.to_pylist() for column in batch.columns), strict=True)


def write_sqlite(scaler: Scaler, path: Path, tables: Sequence[str]) -> Iterator[Written]:
    """The demo's SQLite schema, views and indexes, for the ``tables`` chosen (atomic)."""
    chosen = [table for table in SCHEMA if table in tables]
    with atomic_path(path) as tmp:
        connection = sqlite3.connect(tmp)
        try:
            # The file only takes its final name once complete, so no journal is needed.
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            for table in chosen:
                start = time.perf_counter()
                spec = SCHEMA[table]
                connection.execute(
                    f"CREATE TABLE {table} ({', '.join(f'{n} {k}' for n, k in spec)})")
                insert = f"INSERT INTO {table} VALUES ({', '.join('?' * len(spec))})"
                rows = 0
                for batch in scaler.batches(table):
                    rows += connection.executemany(insert, batch).rowcount
                    connection.commit()
                for indexed, column in INDEXES:
                    if indexed == table:
                        connection.execute(f"CREATE INDEX ix_{table}_{column} ON {table} ({column})")
                connection.commit()
                yield Written("sqlite", table, rows, time.perf_counter() - start, path)
            for view, select in VIEWS.items():
                if {"qa_ratings", "qa_reviews"} <= set(chosen):
                    connection.execute(f"CREATE VIEW {view} AS {select}")
            connection.commit()
        finally:
            connection.close()


def scale(out_dir: Path, rows: int, *, seed: int = 7, formats: Sequence[str] = FORMATS,
          tables: Sequence[str] = TABLES, keep_ratios: bool = False,
          memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None,
          ) -> Iterator[Written]:
    """Write the scaled demo tables into ``out_dir``, yielding each file as it is done."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reportgen-scale-") as scratch:
        demo_dir = Path(scratch) / "demo"
        generate_demo_data(demo_dir, seed=seed, end_month=END_MONTH, months=MONTHS)
        # the demo's files that are not tables (stories, the action register) as they are
        table_files = {f"{name}.csv" for name in SCHEMA} | {f"{JOINED}.csv", SQLITE_NAME}
        for extra in sorted(p for p in demo_dir.iterdir() if p.name not in table_files):
            with atomic_path(out_dir / extra.name) as tmp:
                shutil.copyfile(extra, tmp)
        connection = duckdb.connect()
        try:
            connection.execute(f"SET memory_limit = {_quote(memory_limit)}")
            connection.execute(f"SET temp_directory = {_quote(str(Path(scratch) / 'spill'))}")
            if threads:
                connection.execute(f"SET threads = {int(threads)}")
            scaler = Scaler(connection, demo_dir, rows, seed, keep_ratios)
            for file_format in formats:
                if file_format == "sqlite":
                    yield from write_sqlite(scaler, out_dir / SQLITE_NAME, tables)
                    continue
                for table in tables:
                    path = out_dir / f"{table}.{file_format}"
                    start = time.perf_counter()
                    count = scaler.write_file(table, path, file_format)
                    yield Written(file_format, table, count, time.perf_counter() - start, path)
        finally:
            connection.close()


def _choices(text: str, allowed: Sequence[str], what: str,
             parser: argparse.ArgumentParser) -> list[str]:
    chosen = [item.strip() for item in text.split(",") if item.strip()]
    for item in chosen:
        if item not in allowed:
            close = difflib.get_close_matches(item, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            parser.error(f"--{what}: unknown {what[:-1]} {item!r}{hint} "
                         f"(available: {', '.join(allowed)})")
    if not chosen:
        parser.error(f"--{what}: expected a comma-separated list, got {text!r}")
    return chosen


def _rows(text: str) -> int:
    """A whole number >= 1 (underscores allowed: 10_000_000)."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows-per-source", type=_rows, required=True, metavar="N",
                        help="about how many rows every table gets")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help=f"comma-separated, from {', '.join(FORMATS)} (default: all)")
    parser.add_argument("--tables", default=",".join(TABLES),
                        help=f"comma-separated, from {', '.join(TABLES)} (default: all)")
    parser.add_argument("--keep-ratios", action="store_true",
                        help="copy every table by the factor that brings tickets to N")
    parser.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT,
                        help=f"DuckDB memory limit (default: {DEFAULT_MEMORY_LIMIT})")
    parser.add_argument("--threads", type=_rows, default=None,
                        help="DuckDB threads (default: one per core)")
    args = parser.parse_args(argv)
    formats = _choices(args.formats, FORMATS, "formats", parser)
    tables = _choices(args.tables, TABLES, "tables", parser)
    try:  # before anything is written
        duckdb.connect().execute(f"SET memory_limit = {_quote(args.memory_limit)}")
    except duckdb.Error as exc:
        parser.error(f"--memory-limit: expected a size such as 1GB, got {args.memory_limit!r} "
                     f"({exc})")

    totals: dict[str, list[float]] = {}
    print(f"{'format':<8} {'table':<22} {'rows':>13} {'seconds':>9} {'MiB':>9}")
    try:
        for written in scale(args.out, args.rows_per_source, seed=args.seed, formats=formats,
                             tables=tables, keep_ratios=args.keep_ratios,
                             memory_limit=args.memory_limit, threads=args.threads):
            size = written.path.stat().st_size / 2**20 if written.format != "sqlite" else None
            shown = f"{size:9.1f}" if size is not None else f"{'':>9}"
            print(f"{written.format:<8} {written.table:<22} {written.rows:>13,} "
                  f"{written.seconds:>9.2f} {shown}", flush=True)
            total = totals.setdefault(written.format, [0, 0.0])
            total[0] += written.rows
            total[1] += written.seconds
    except (duckdb.Error, OSError, sqlite3.Error) as exc:  # e.g. a full disk, a bad --memory-limit
        print(f"scale_data: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for file_format, (rows, seconds) in totals.items():
        extra = ""
        if file_format == "sqlite":
            extra = f"{(args.out / SQLITE_NAME).stat().st_size / 2**20:9.1f}"
        print(f"{file_format:<8} {'all tables':<22} {int(rows):>13,} {seconds:>9.2f} {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
