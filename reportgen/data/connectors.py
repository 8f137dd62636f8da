"""Connectors: open a source where its data lives and describe its raw columns.

Files (CSV, Parquet, Excel) and DuckDB queries are opened in an embedded DuckDB database,
one per source; SQL sources in their own database through SQLAlchemy.  A connector reads
no rows: it returns a relation that later queries select from, so the aggregation runs
where the data is and only small results come back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from reportgen._lazy import lazy
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import OptionalDependencyError, ReportgenError, SourceError
from reportgen.registry import Registry
from reportgen.secrets import redact

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy("sqlalchemy")  # only a run needs it: ``validate`` checks source kinds by name

#: How the time column is compared with the window: 'instant' (DuckDB casts it to an
#: instant in the source's timezone), 'naive' (bounds are local times of the source's
#: timezone) or 'text' (SQLite keeps times as ISO text: bounds are compared as text).
TimeMode = Literal["instant", "naive", "text"]
#: What a raw column holds, as far as the database tells: number, text, bool, time, unknown.
NativeKind = Literal["number", "text", "bool", "time", "unknown"]

#: Control characters but tab, line feed and carriage return: invisible, and not allowed in
#: the XML of charts and slides, so they are removed from text values (and counted).  NUL
#: is left to the connectors (a database text value cannot hold it).
CONTROL_CHARACTERS = "".join(chr(c) for c in (*range(1, 9), 11, 12, *range(14, 32), 127))

_SQLITE_PATH = re.compile(r"^sqlite(\+\w+)?:///(?!/)(?P<path>[^?]+)")


@dataclass
class RawRelation:
    """A source opened where it lives: a connection and the raw rows as a selectable."""

    connection: sa.Connection
    table: sa.FromClause
    available: list[str]
    label: str | None
    time_mode: TimeMode
    native: Mapping[str, NativeKind] = field(default_factory=dict)
    #: columns whose values arrive as text and are typed by the contract (CSV, Excel)
    text_typed: bool = False
    #: parameters bound into a query source (its own :start / :end)
    params: Mapping[str, Any] = field(default_factory=dict)
    #: the statements that opened it (DuckDB views, settings), for replaying its queries
    setup: list[str] = field(default_factory=list)
    #: where it lives: a file for SQLite, None for an in-memory DuckDB
    database: str | None = None
    #: rows of the file the reader left out (an incomplete last row), counted as dropped
    unread_rows: int = 0
    #: for a file read row by row as it is queried: where its first broken row is, as
    #: "line N of the file: why" (the reader's own error numbers rows, not lines)
    locate: Callable[[], str | None] | None = None

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    def close(self) -> None:
        engine = self.connection.engine
        self.connection.close()
        engine.dispose()


class Connector(Protocol):
    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        """Open source ``name``; ``bounds`` are the window's start and end as naive local
        times of the source's timezone (bound to a query's :start/:end or $start/$end)."""
        ...


SOURCES: Registry[Connector] = Registry(
    "source kind", "reportgen.sources",
    builtins=("reportgen.data.connectors", "reportgen.data.csv_source"),
)


def resolve(base_dir: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base_dir / candidate)


def _literal(text: str) -> str:
    """A SQL string literal (DuckDB table functions take no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _native_kind(type_name: str) -> NativeKind:
    name = type_name.upper()
    if any(t in name for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "NUMERIC", "REAL", "HUGEINT")):
        return "number"
    if "BOOL" in name:
        return "bool"
    if "TIMESTAMP" in name or name in ("DATE", "DATETIME"):
        return "time"
    if any(t in name for t in ("CHAR", "TEXT", "STRING", "VARCHAR")):
        return "text"
    return "unknown"


def duckdb_connection() -> sa.Connection:
    """A connection to a new embedded DuckDB database (in memory, spilling to disk), with
    the memory limit and spill folder of the settings (``data.resources``)."""
    try:
        import duckdb_engine  # noqa: F401  (registers the dialect)
    except ModuleNotFoundError as exc:
        raise OptionalDependencyError("file sources", "duckdb", exc.name or "duckdb_engine") from None
    from sqlalchemy.pool import StaticPool

    from reportgen.data import resources

    engine = sa.create_engine("duckdb:///:memory:", poolclass=StaticPool)
    conn = engine.connect()
    conn.info["setup"] = []
    for statement in resources.policy().statements():
        _setup(conn, statement)
    resources.track(conn.connection.driver_connection)
    return conn


def driver_connection(conn: sa.Connection) -> Any:
    """The database driver's own connection under ``conn`` (for DuckDB, duckdb_engine's
    wrapper of it), for what SQLAlchemy does not offer: registering a frame, splitting
    statements, a plain cursor.  SQLAlchemy types it ``Any``, None once invalidated."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise ReportgenError("the database connection was invalidated")
    return driver


def _setup(conn: sa.Connection, sql: str) -> None:
    """Run a statement that prepares a DuckDB source, and remember it for a replay."""
    conn.exec_driver_sql(sql)
    conn.info.setdefault("setup", []).append(sql)


def _setup_of(conn: sa.Connection) -> list[str]:
    return list(conn.info.get("setup", []))


def _describe(conn: sa.Connection, relation: str) -> dict[str, NativeKind]:
    rows = conn.exec_driver_sql(f"DESCRIBE {relation}").fetchall()
    return {str(r[0]): _native_kind(str(r[1])) for r in rows}


def _existing(name: str, spec: SourceSpec, base_dir: Path) -> Path:
    assert spec.path is not None
    path = resolve(base_dir, spec.path)
    if not path.is_file():
        raise SourceError(name, f"file not found: {path}", str(path))
    return path


def _raise_if_out_of_memory(exc: BaseException, name: str, label: str | None) -> None:
    """Running out of memory is a resource error with advice, never "cannot read"."""
    from reportgen.data import resources

    if resources.is_out_of_memory(exc):
        raise resources.out_of_memory(name, label) from None


def _duckdb_error(exc: Exception) -> str:
    return read_problem(str(getattr(exc, "orig", None) or exc))


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_WHOLE_FILE = (("Error when sniffing file", "not readable as CSV text"),
               ("No magic bytes found", "not a Parquet file"),
               ("is not a valid Parquet", "not a Parquet file"))


def read_problem(message: str) -> str:
    """A reader's error in a line of our words: DuckDB's CSV errors name the line and say
    what was wrong several lines further down; file-level failures have no line and say so."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    first = lines[0] if lines else message.strip()
    for marker, words in _WHOLE_FILE:
        if marker in message:
            return f"{words} (the whole file)"
    found = _CSV_LINE.search(message)
    if not found:
        return first
    why = next((line for line in lines[1:] if not line.startswith(("Original Line", "Possible"))
                and "=" not in line), "")
    return f"line {found.group(1)} of the file: {why.rstrip('.') or first}"


def _view(conn: sa.Connection, name: str, spec: SourceSpec, select: str, label: str,
          time_mode: TimeMode = "instant", text_typed: bool = False,
          unread_rows: int = 0, allowed: list[Path] | None = None) -> RawRelation:
    import duckdb

    setup = [*_setup_of(conn), f'CREATE VIEW "raw" AS {select}',
             f"SET TimeZone = {_literal(spec.timezone)}"]
    try:
        conn.exec_driver_sql(setup[-2])
        native = _describe(conn, '"raw"')
    except (duckdb.Error, sa.exc.DBAPIError) as exc:
        conn.close()
        _raise_if_out_of_memory(exc, name, label)
        raise SourceError(name, f"cannot read the data ({_duckdb_error(exc)})", label) from None
    table = sa.table("raw", *(sa.column(c) for c in native))
    conn.exec_driver_sql(setup[-1])
    conn.info["setup"] = setup
    # derived columns are SQL too: they run where nothing but the source's file is readable
    fence(conn, [] if allowed is None else allowed)
    setup = _setup_of(conn)
    return RawRelation(conn, table, list(native), label, time_mode, native, text_typed,
                       setup=setup, unread_rows=unread_rows)


@SOURCES.register("parquet")
class ParquetConnector:
    """A Parquet file (or a glob of them) read by DuckDB, with the file's own types."""

    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        path = _existing(name, spec, base_dir)
        conn = duckdb_connection()
        return _view(conn, name, spec, f"SELECT * FROM read_parquet({_literal(str(path))})",
                     str(path), allowed=[path])


@SOURCES.register("excel")
class ExcelConnector:
    """One sheet of an .xlsx workbook.  Workbooks are small: pandas reads the sheet and
    DuckDB queries it like any other source."""

    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        import pandas as pd

        path = _existing(name, spec, base_dir)
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
        return _view(conn, name, spec, 'SELECT * FROM "excel_sheet"', str(path),
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
        try:
            if spec.path:
                database = resolve(base_dir, spec.path)
                if not database.is_file():
                    raise SourceError(name, f"DuckDB database not found: {database}", str(database))
                _setup(conn, f"ATTACH {_literal(str(database))} AS source (READ_ONLY)")
                _setup(conn, "USE source")
            for view, file in spec.files.items():
                path = resolve(base_dir, file)
                if not path.is_file():
                    raise SourceError(name, f"file for view '{view}' not found: {path}", str(path))
                reader = "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv_auto"
                quoted = '"' + view.replace('"', '""') + '"'
                _setup(conn, f"CREATE TEMP VIEW {quoted} AS SELECT * FROM "
                             f"{reader}({_literal(str(path))})")
        except (duckdb.Error, sa.exc.DBAPIError) as exc:
            conn.close()
            _raise_if_out_of_memory(exc, name, label)
            raise SourceError(name, f"cannot open the data ({_duckdb_error(exc)})", label) from None
        except SourceError:
            conn.close()
            raise
        allowed = [resolve(base_dir, f) for f in spec.files.values()]
        if spec.path:
            allowed.append(resolve(base_dir, spec.path))
        try:
            _only_a_select(conn, name, spec.query, label)
            _setup(conn, f"SET TimeZone = {_literal(spec.timezone)}")
            fence(conn, allowed)
        except SourceError:
            conn.close()
            raise
        query = re.sub(r"\$(start|end)\b", r":\1", spec.query)
        params = {k: v for k, v in zip(("start", "end"), bounds, strict=True)
                  if re.search(rf":{k}\b", query)}
        return _query_relation(conn, name, query, params, label, "naive", duckdb_types=True)


def fence(conn: sa.Connection, allowed: list[Path]) -> None:
    """Let the DuckDB connection read only the ``allowed`` files from now on: no other file,
    no URL, no extension to install or load, and no setting to undo it.

    Views over the allowed files keep working, since their reads are checked when they run.
    """
    paths = "[" + ", ".join(_literal(str(p)) for p in allowed) + "]"
    _setup(conn, f"SET allowed_paths = {paths}")
    for sql in ("SET autoinstall_known_extensions = false",
                "SET autoload_known_extensions = false",
                "SET enable_external_access = false", "SET lock_configuration = true"):
        _setup(conn, sql)


def _only_a_select(conn: sa.Connection, name: str, query: str, label: str | None) -> None:
    """Refuse a query that is not one SELECT (no PRAGMA, SET, INSTALL, ATTACH, COPY, ...)."""
    import duckdb

    driver = driver_connection(conn)
    try:  # DuckDB parses $start and $end as parameters, not :start and :end
        statements = driver.extract_statements(re.sub(r":(start|end)\b", r"$\1", query))
    except duckdb.Error as exc:
        raise SourceError(name, f"query: not valid SQL ({read_problem(str(exc))})",
                          label) from None
    kinds = [str(s.type).rpartition(".")[2] for s in statements]
    if kinds != ["SELECT"]:
        found = "no statement" if not kinds else ", ".join(kinds)
        raise SourceError(name, f"query: expected a single SELECT statement, found {found} "
                          "(a query source only reads its declared files)", label)


def _query_relation(conn: sa.Connection, name: str, query: str, params: Mapping[str, Any],
                    label: str | None, time_mode: TimeMode, *,
                    duckdb_types: bool = False) -> RawRelation:
    statement = sa.text(query).bindparams(**params) if params else sa.text(query)
    try:
        probe: sa.Select[*tuple[Any, ...]] = sa.select(sa.literal_column("*")).select_from(
            statement.columns().subquery("q")).limit(0)
        keys = list(conn.execute(probe).keys())
    except sa.exc.SQLAlchemyError as exc:
        detail = redact(_duckdb_error(exc))
        conn.close()
        _raise_if_out_of_memory(exc, name, label)
        if "disabled by configuration" in detail or "disabled through configuration" in detail:
            detail = (f"it reads a file, URL or extension other than the source's declared "
                      f"files, which a query source may not ({detail})")
        raise SourceError(name, f"query failed: {detail}", label) from None
    native: dict[str, NativeKind] = {}
    if duckdb_types:
        compiled = probe.compile(conn, compile_kwargs={"literal_binds": True})
        native = _describe(conn, f"({compiled})")
    table = statement.columns(*(sa.column(k) for k in keys)).subquery("raw")
    database = conn.engine.url.database if conn.dialect.name == "sqlite" else None
    return RawRelation(conn, table, keys, label, time_mode, native, params=params,
                       setup=_setup_of(conn), database=database)


def _sqlite_aggregates(dbapi_connection: Any, _record: Any) -> None:
    """SQLite has no var_samp nor a safe number test: add them (var_samp with Welford's
    update, as PostgreSQL and DuckDB compute it)."""

    class VarSamp:
        def __init__(self) -> None:
            self.n, self.mean, self.m2 = 0, 0.0, 0.0

        def step(self, value: Any) -> None:
            if value is None:
                return
            try:
                x = float(value)
            except (TypeError, ValueError):
                return
            self.n += 1
            delta = x - self.mean
            self.mean += delta / self.n
            self.m2 += delta * (x - self.mean)

        def finalize(self) -> float | None:
            return self.m2 / (self.n - 1) if self.n > 1 else None

    def number(value: Any, whole: int) -> float | None:
        """The value as a number (a whole one when asked), else NULL: the contract's reading."""
        try:
            x = float(str(value).strip())
        except (TypeError, ValueError):
            return None
        if x != x or (whole and not x.is_integer()):
            return None
        return x

    def printable(value: Any) -> Any:
        """Text without control characters (see ``reportgen.data.canonical.printable``)."""
        if not isinstance(value, str):
            return value
        return value.translate(dict.fromkeys(map(ord, CONTROL_CHARACTERS)))

    dbapi_connection.create_aggregate("var_samp", 1, VarSamp)
    dbapi_connection.create_function("reportgen_number", 2, number, deterministic=True)
    dbapi_connection.create_function("reportgen_printable", 1, printable, deterministic=True)


def sql_engine(name: str, url: str, base_dir: Path) -> sa.Engine:
    # Relative SQLite paths are taken relative to the definition, like every other path.
    match = _SQLITE_PATH.match(url)
    if match and match["path"] != ":memory:":
        path = resolve(base_dir, match["path"])
        if not path.is_file():
            raise SourceError(name, f"SQLite database not found: {path}", str(path))
        url = url.replace(match["path"], str(path), 1)
    try:
        engine = sa.create_engine(url)
    except ModuleNotFoundError as exc:
        raise OptionalDependencyError(f"the database URL {redact(url)!r}", "postgres",
                                      exc.name or "driver") from None
    except sa.exc.ArgumentError as exc:
        raise SourceError(name, f"not a valid database URL {redact(url)!r} ({exc})") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_aggregates)
    return engine


@SOURCES.register("sql")
class SqlConnector:
    """A table or a query in any database SQLAlchemy reaches; the aggregates run there."""

    def open(self, name: str, spec: SourceSpec, base_dir: Path,
             bounds: tuple[Any, Any]) -> RawRelation:
        assert spec.url is not None
        engine = sql_engine(name, spec.url, base_dir)
        label = redact(spec.url)
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            detail = redact(str(getattr(exc, "orig", None) or exc)).splitlines()[0]
            raise SourceError(name, f"cannot connect: {detail}", label) from None
        mode: TimeMode = "text" if engine.dialect.name == "sqlite" else "naive"
        if spec.table is None:
            assert spec.query is not None
            start, end = bounds
            if mode == "text":
                start, end = f"{start:%Y-%m-%d %H:%M:%S}", f"{end:%Y-%m-%d %H:%M:%S}"
            params = {k: v for k, v in (("start", start), ("end", end))
                      if re.search(rf":{k}\b", spec.query)}
            return _query_relation(conn, name, spec.query, params, label, mode)
        schema, _, table_name = spec.table.rpartition(".")
        inspector = sa.inspect(conn)
        try:
            if not inspector.has_table(table_name, schema=schema or None) and table_name not in \
                    inspector.get_view_names(schema=schema or None):
                tables = ", ".join(inspector.get_table_names(schema=schema or None)
                                   + inspector.get_view_names(schema=schema or None))
                raise SourceError(name, f"table '{spec.table}' not found (tables: {tables})", label)
            described = inspector.get_columns(table_name, schema=schema or None)
        except SourceError:
            conn.close()
            engine.dispose()
            raise
        native = {c["name"]: _native_kind(str(c["type"])) for c in described}
        table = sa.table(table_name, *(sa.column(c) for c in native), schema=schema or None)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        return RawRelation(conn, table, list(native), label, mode, native, database=database)
