"""A SQL source read once into an embedded DuckDB database, where its statements then run.

A SQL source's statements run in its own database by default ("push-down"): a warehouse
aggregates where the data lives and only small results travel.  SQLite is the exception,
chosen by measurement (``benchmarks/README.md``, "SQLite sources"): it has no GROUPING
SETS, no window functions worth the name at a million rows, and its number test, variance
and text cleaning are Python functions called on every row, so each of the three or four
statements a source needs costs a full scan at Python speed.  Instead, one statement reads
the report's window (only the columns the definition uses) and hands it to DuckDB in Arrow
batches; the aggregates, data-quality counts, facts and rows then run there, with the same
statements as a file source.

The statement is run by the ADBC SQLite driver, which builds the Arrow batches in C while
DuckDB takes them in, so two sources read at once use both cores.  Python's sqlite3 is the
fallback (a database given by URI, a value the driver cannot type): it makes a Python
object of every value and hands the GIL over for each, so its reads take turns.

What a value *is* stays SQLite's reading: each column is typed by SQLite in the reading
statement exactly as the push-down statements type it (``canonical.typed_columns``), the
window is SQLite's comparison of its text times, and the values the column contract must
test (text in a number column, a fraction in a whole-number one; ``contract.sqlite_checks``)
are carried along as text, each distinct one then tested by the push-down's own number
test.  Only the removal of control characters, which is a Python function in SQLite, moves
to DuckDB's regular expression (the same characters).  Rows without a time or with one
SQLite cannot read are read as well (a few), so the data-quality note counts them as
before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from reportgen.data.canonical import (
    TIME,
    Canonical,
    Window,
    _bounds,
    _time,
    _written_time,
    assemble,
    columns_read,
    typed_columns,
)
from reportgen.data.column_values import printable, text
from reportgen.data.connectors import NativeKind, RawRelation
from reportgen.data.contract import SqliteCheck, has_rowid, sqlite_checks, unreadable
from reportgen.data.quality import CONTROL
from reportgen.data.relations import (
    driver_connection,
    duckdb_connection,
    fence,
    raise_if_out_of_memory,
    run_setup,
    setup_of,
)
from reportgen.data.sql_source import contract_number
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import SourceError
from reportgen.period import Period
from reportgen.secrets import redact

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

#: databases whose sources are read once into DuckDB unless a source says otherwise
#: (``aggregate_in``); the others aggregate where the data lives
READ_ONCE_DIALECTS = frozenset({"sqlite"})
#: rows fetched from SQLite and handed to DuckDB at a time
BATCH_ROWS = 50_000

_IN, _WRITTEN, _ROW = "__in__", "__written__", "__row__"
#: the statement after which the read table is created (a replay reads there)
USE_LANDED = "USE landed"
#: DuckDB's type for each transferred kind ("" for a column typed by its values)
_DUCK_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "str": "VARCHAR",
               "category": "VARCHAR", "datetime": "VARCHAR", "time": "VARCHAR"}


def reads_once(name: str, spec: SourceSpec, raw: RawRelation) -> bool:
    """Whether source ``name`` (opened as ``raw``) is read once into DuckDB: its
    ``aggregate_in``, else the rule for its database (``READ_ONCE_DIALECTS``)."""
    if raw.dialect == "duckdb":
        return False
    if spec.aggregate_in == "duckdb" and raw.dialect not in READ_ONCE_DIALECTS:
        raise SourceError(name, f"aggregate_in: duckdb reads SQLite sources only, this "
                          f"one is a {raw.dialect} database (leave aggregate_in out)", raw.label)
    if spec.aggregate_in is not None:
        return spec.aggregate_in == "duckdb"
    return raw.dialect in READ_ONCE_DIALECTS


@dataclass(frozen=True)
class _Column:
    """One column of the reading statement: its name in DuckDB, its SQLite expression, its
    DuckDB type ("" when its values decide)."""

    name: str
    expression: ColumnElement[Any]
    duck_type: str


def read_once(name: str, spec: SourceSpec, raw: RawRelation, needed: Sequence[str],
              window: Window, periods: Sequence[Period]) -> Canonical:
    """The canonical rows of SQLite source ``raw``, read once into a new DuckDB database
    (``raw`` is closed once read); raises the column contract's located errors."""
    ours, derived = columns_read(name, spec, raw, needed)
    typed, kinds, _ = typed_columns(spec, raw, ours, clean_text=False)
    time = _time(raw, spec)
    bounds = _bounds(raw, spec, window, periods)
    in_window = sa.and_(time >= sa.literal(bounds[0]), time < sa.literal(bounds[-1]))
    written = _written_time(raw, spec)
    assert written is not None  # SQLite's times are text
    checks = sqlite_checks(spec, raw)
    is_table = has_rowid(raw)  # its rows are numbered
    columns = [_Column(col, _as_kind(value, kinds[col]), _DUCK_TYPES.get(kinds[col], ""))
               for col, value in typed.items()]
    columns += [
        _Column(TIME, sa.case((in_window, text(time)), else_=sa.null()), "VARCHAR"),
        _Column(_IN, sa.case((in_window, 1), else_=0), "BOOLEAN"),
        _Column(_WRITTEN, sa.case((written, 1), else_=0), "BOOLEAN"),
        *([_Column(_ROW, sa.literal_column("rowid"), "BIGINT")] if is_table and checks else []),
    ]
    for i, check in enumerate(checks):  # the values the number test decides, in DuckDB
        columns.append(_Column(f"__text{i}__", sa.case((check.stored_text, text(check.source)),
                                                       else_=sa.null()), "VARCHAR"))
        if check.fraction is not None:
            columns.append(_Column(f"__fraction{i}__", sa.case(
                (check.fraction, text(check.source)), else_=sa.null()), "VARCHAR"))
    # the window's rows, and those without a time or with one SQLite cannot read (counted)
    reading = sa.select(*(c.expression.label(f"c{i}") for i, c in enumerate(columns))) \
        .select_from(raw.table) \
        .where(sa.or_(in_window, time.is_(None), sa.func.datetime(time).is_(None)))
    conn = duckdb_connection()
    try:
        # the table is compressed (a tenth of its size in memory) once it is filled, and
        # DuckDB hands memory back after each statement instead of keeping 128 MB per
        # database: five SQLite sources of 1M rows stay within the run's memory budget
        for sql in ("SET allocator_flush_threshold = '16MB'",
                    "ATTACH ':memory:' AS landed (COMPRESS)", USE_LANDED):
            run_setup(conn, sql)
        replay = _transfer(name, raw, reading, columns, conn)
        conn.commit()  # a checkpoint runs outside a transaction
        driver_connection(conn).execute("CHECKPOINT landed")
        fence(conn, [])
    except BaseException:
        conn.close()
        conn.engine.dispose()
        raise
    finally:
        raw.close()
    table = sa.table("canon", *(sa.column(c.name) for c in columns))
    native: dict[str, NativeKind] = {
        col: "number" if kind in ("int", "float") else "text" if kind in ("str", "category")
        else "bool" if kind == "bool" else "unknown" for col, kind in kinds.items()}
    landed = RawRelation(conn, table, [c.name for c in columns], raw.label, "text",
                         native, setup=setup_of(conn), reading=replay)
    _check_contract(name, spec, landed, checks, is_table)
    values: dict[str, ColumnElement[Any]] = {}
    controls: dict[tuple[str, str], ColumnElement[Any]] = {}
    for col in typed:
        value: ColumnElement[Any] = table.c[col]
        if kinds[col] in ("str", "category"):
            shown = printable(value, "duckdb")
            controls[(CONTROL, col)] = value != shown
            value = shown
        values[col] = value
    landed_time = table.c[TIME]
    return assemble(name, spec, landed, periods, values, kinds, derived, landed_time, bounds,
                    table.c[_IN], controls, table.c[_WRITTEN], None,
                    [*(table.c[col] for col in typed), landed_time])


def _as_kind(value: ColumnElement[Any], kind: str) -> ColumnElement[Any]:
    """A typed SQLite value in the one storage class its DuckDB column takes (SQLite types
    values, not columns: a whole-number column may hold 4.0 as a real)."""
    if kind == "int":
        return sa.cast(value, sa.Integer)
    if kind == "float":
        return sa.cast(value, sa.Float)
    if kind == "bool":
        return sa.case((value.is_(None), sa.null()), (value, 1), else_=0)
    if kind in _DUCK_TYPES:
        return text(value)
    return value


def _transfer(name: str, raw: RawRelation, reading: sa.Select[Any], columns: Sequence[_Column],
              conn: sa.Connection) -> tuple[str, str, list[Any], str]:
    """Run ``reading`` in SQLite and append its rows to DuckDB table ``canon``; returns the
    read for a replay (database, statement, parameters, the table as created).

    The rows travel as Arrow: read by the ADBC SQLite driver where it can (a database file,
    every column's type known), else fetched by Python's sqlite3 a batch at a time."""
    sql, positional = _driver_statement(reading, raw)
    duck = driver_connection(conn)
    quoted = ", ".join(f'"{c.name}" {c.duck_type or "VARCHAR"}' for c in columns)
    create = f"CREATE TABLE canon ({quoted})"
    duck.execute(create)
    database = str(raw.database or raw.connection.engine.url.database)
    if not (all(c.duck_type for c in columns) and _read_by_adbc(name, raw, reading, columns,
                                                                  database, duck)):
        _fetch(name, raw, sql, positional, columns, duck)
    return database, sql, positional, create


def _driver_statement(statement: sa.Select[Any] | sa.CompoundSelect[Any],
                      raw: RawRelation) -> tuple[str, list[Any]]:
    """``statement`` as SQLite's SQL text and its positional parameters (a query source's
    own :start / :end among them)."""
    compiled = statement.compile(raw.connection, compile_kwargs={"render_postcompile": True})
    params = {**compiled.params, **raw.params}
    return str(compiled), [params[key] for key in compiled.positiontup or ()]


#: a first row whose values have each column's type (the ADBC driver types a column by the
#: first rows it reads, and a column that starts with NULLs would be taken for integers)
_SENTINELS = {"BIGINT": 0, "DOUBLE": 0.5, "BOOLEAN": 0, "VARCHAR": ""}
#: one Python sqlite3 read at a time: it hands the GIL over for every value, and two reads
#: at once spend more time handing it over than reading
_FETCHING = threading.Lock()


def _read_by_adbc(name: str, raw: RawRelation, reading: sa.Select[Any],
                  columns: Sequence[_Column], database: str, duck: Any) -> bool:
    """Append ``reading``'s rows to ``canon`` through the ADBC SQLite driver, which reads
    in C and hands DuckDB Arrow batches without the GIL; False (``canon`` left empty) where
    it cannot: no database file, no driver, or a statement or value it does not take (the
    sqlite3 fetch then reads, and reports a real failure)."""
    import duckdb

    path = Path(database)
    if not database or database.startswith("file:") or not path.is_file():
        return False
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:
        return False
    first = sa.select(*(sa.literal(_SENTINELS[c.duck_type]).label(f"c{i}")
                        for i, c in enumerate(columns)), sa.literal(1).label("sentinel"))
    statement: sa.CompoundSelect[Any] = sa.union_all(
        first, reading.add_columns(sa.literal(0).label("sentinel")))
    sql, positional = _driver_statement(statement, raw)
    try:
        with adbc.connect(str(path)) as source, source.cursor() as cursor:
            cursor.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
            cursor.execute(sql, positional)
            duck.register("incoming", cursor.fetch_record_batch())
            try:
                duck.execute("INSERT INTO canon SELECT * EXCLUDE (sentinel) FROM incoming "
                             "WHERE sentinel = 0")
            finally:
                duck.unregister("incoming")
    except duckdb.InterruptException:
        raise  # the run is stopping
    except (adbc.Error, duckdb.Error) as exc:
        raise_if_out_of_memory(exc, name, raw.label)
        logger.debug("source '%s': the ADBC read failed (%s); reading with sqlite3", name,
                     type(exc).__name__)
        duck.execute("DELETE FROM canon")
        return False
    logger.debug("source '%s': read once from SQLite into DuckDB by ADBC", name)
    return True


def _fetch(name: str, raw: RawRelation, sql: str, positional: list[Any],
           columns: Sequence[_Column], duck: Any) -> None:
    """Append the rows of ``sql`` to ``canon``, fetched by Python's sqlite3 and handed to
    DuckDB as Arrow arrays a batch at a time (only one batch of Python rows exists at
    once); a column typed by its values is typed by the first ones seen."""
    import sqlite3

    import duckdb

    types = [c.duck_type for c in columns]
    decided = [bool(t) for t in types]  # a column typed by its values: once one is seen
    cursor = driver_connection(raw.connection).cursor()
    rows = 0
    try:
        with _FETCHING:
            cursor.execute(sql, positional)
            while batch := cursor.fetchmany(BATCH_ROWS):
                rows += len(batch)
                arrays = []
                for i, values in enumerate(zip(*batch, strict=True)):
                    array, inferred = _arrow(values, types[i])
                    if not decided[i] and inferred:
                        types[i], decided[i] = inferred, True
                        duck.execute(f'ALTER TABLE canon ALTER "{columns[i].name}" TYPE '
                                     f'{inferred}')
                    elif inferred and inferred != types[i]:
                        types[i] = _wider(types[i], inferred)
                        duck.execute(f'ALTER TABLE canon ALTER "{columns[i].name}" TYPE '
                                     f'{types[i]}')
                    arrays.append(array)
                del batch
                duck.register("batch", _table(arrays, columns))
                duck.execute("INSERT INTO canon SELECT * FROM batch")
                duck.unregister("batch")
    except sqlite3.Error as exc:
        raise SourceError(name, f"query failed: {redact(str(exc))}", raw.label) from None
    except duckdb.Error as exc:
        raise_if_out_of_memory(exc, name, raw.label)
        raise
    finally:
        cursor.close()
    logger.debug("source '%s': %d rows read once from SQLite into DuckDB", name, rows)


def _arrow(values: Sequence[Any], duck_type: str) -> tuple[pa.Array, str]:
    """``values`` as an Arrow array of ``duck_type``; for a column typed by its values, the
    type they have (text when they mix kinds), or "" when all are missing."""
    import pyarrow as pa

    if duck_type == "BIGINT":
        return pa.array(values, type=pa.int64()), ""
    if duck_type == "DOUBLE":
        return pa.array(values, type=pa.float64()), ""
    if duck_type == "BOOLEAN":
        return pa.array(values, type=pa.int64()).cast(pa.bool_()), ""
    if duck_type == "VARCHAR":
        return pa.array(values, type=pa.string()), ""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if pa.types.is_null(array.type):
        return pa.array(values, type=pa.string()), ""
    if pa.types.is_integer(array.type):
        return array, "BIGINT"
    if pa.types.is_floating(array.type):
        return array, "DOUBLE"
    if pa.types.is_string(array.type):
        return array, "VARCHAR"
    return pa.array([None if v is None else str(v) for v in values], type=pa.string()), "VARCHAR"


def _wider(have: str, found: str) -> str:
    return "DOUBLE" if {have, found} <= {"BIGINT", "DOUBLE"} else "VARCHAR"


def _table(arrays: Sequence[Any], columns: Sequence[_Column]) -> pa.Table:
    import pyarrow as pa

    return pa.table(list(arrays), names=[c.name for c in columns])


def _check_contract(name: str, spec: SourceSpec, landed: RawRelation,
                    checks: Sequence[SqliteCheck], is_table: bool) -> None:
    """The column contract over the window's values SQLite stored as text in a declared
    number column, or as a fraction in a whole-number one (see ``contract.sqlite_checks``):
    the first column with values its type cannot read raises, at its first row.  The text
    values are tested once each, by the number test the push-down runs in SQLite
    (``sql_source.contract_number``)."""
    if not checks:
        return
    table = landed.table
    in_window = table.c[_IN]
    row = table.c[_ROW] if is_table else None
    # one scan: each column's distinct text values, and its count of fractions
    measures: list[ColumnElement[Any]] = []
    for i, check in enumerate(checks):
        stored = table.c[f"__text{i}__"]
        measures += [sa.func.array_agg(sa.distinct(stored)).filter(stored.is_not(None)),
                     sa.literal(0) if check.fraction is None
                     else sa.func.count(table.c[f"__fraction{i}__"])]
    found = landed.connection.execute(
        sa.select(*measures).select_from(table).where(in_window)).one()
    for i, check in enumerate(checks):
        stored = table.c[f"__text{i}__"]
        fraction = table.c[f"__fraction{i}__"] if check.fraction is not None else None
        whole = 1 if check.kind == "int" else 0
        unread = [v for v in found[2 * i] or () if contract_number(v, whole) is None]
        if not unread and not found[2 * i + 1]:
            continue
        bad: ColumnElement[Any] = stored.in_(unread) if unread else sa.false()
        shown: ColumnElement[Any] = stored
        if fraction is not None:
            bad = sa.or_(bad, fraction.is_not(None))
            shown = sa.func.coalesce(fraction, stored)
        if row is None:
            measures = [sa.func.count(), sa.null(), sa.func.min(shown)]
        else:
            measures = [sa.func.count(), sa.func.min(row), sa.func.arg_min(shown, row)]
        count, first, example = landed.connection.execute(
            sa.select(*measures).select_from(table).where(in_window, bad)).one()
        raise unreadable(name, spec, landed.label, check, int(count), first, example)
