"""Opening relations over a source: the embedded DuckDB connection and the statements that set
it up, views over files, relations over queries, the kinds of their raw columns, and
database errors made readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen._lazy import lazy
from reportgen.data.connectors import NativeKind, RawRelation, TimeMode
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import OptionalDependencyError, ReportgenError, SourceError
from reportgen.secrets import redact

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy("sqlalchemy")  # only a run needs it: ``validate`` checks source kinds by name


def sql_literal(text: str) -> str:
    """A SQL string literal (DuckDB table functions take no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def native_kind(type_name: str) -> NativeKind:
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
        run_setup(conn, statement)
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


def run_setup(conn: sa.Connection, sql: str) -> None:
    """Run a statement that prepares a DuckDB source, and remember it for a replay."""
    conn.exec_driver_sql(sql)
    conn.info.setdefault("setup", []).append(sql)


def setup_of(conn: sa.Connection) -> list[str]:
    return list(conn.info.get("setup", []))


def describe_columns(conn: sa.Connection, relation: str) -> dict[str, NativeKind]:
    rows = conn.exec_driver_sql(f"DESCRIBE {relation}").fetchall()
    return {str(r[0]): native_kind(str(r[1])) for r in rows}


def raise_if_out_of_memory(exc: BaseException, name: str, label: str | None) -> None:
    """Running out of memory is a resource error with advice, never "cannot read"."""
    from reportgen.data import resources

    if resources.is_out_of_memory(exc):
        raise resources.out_of_memory(name, label) from None


def duckdb_error(exc: Exception) -> str:
    return read_problem(str(getattr(exc, "orig", None) or exc))


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


_WHOLE_FILE = (("Error when sniffing file", "not readable as CSV text"),
               ("No magic bytes found", "not a Parquet file"),
               ("is not a valid Parquet", "not a Parquet file"))


#: DuckDB's words for an operator or function given values of types it does not take:
#: ``No function matches the given name and argument types '-(VARCHAR, VARCHAR)'``
_NO_MATCH = re.compile(r"No function matches the given name and argument types "
                       r"'(?P<name>[^(]+)\((?P<types>[^)]*)\)'")
#: DuckDB's type names as a definition's reader knows them
_TYPE_WORDS = {"VARCHAR": "text", "BIGINT": "a whole number", "INTEGER": "a whole number",
               "DOUBLE": "a number", "TIMESTAMP": "a timestamp", "DATE": "a date",
               "BOOLEAN": "a yes/no value", "INTERVAL": "a duration"}


def expression_problem(message: str) -> str:
    """Why a derived column's SQL expression cannot be computed, in a definition author's
    words (never the database's "Binder Error" header): which operation got which types,
    and how to fix the usual case (timestamps written as text)."""
    first = read_problem(message)
    text = re.sub(r"^\w+ Error: ", "", first)
    found = _NO_MATCH.search(message)
    if not found:
        return f"the expression cannot be computed ({text})"
    kinds = [_TYPE_WORDS.get(t.strip(), t.strip().lower()) for t in found["types"].split(",")]
    name = found["name"].strip()
    operation = f"'{name}'" if name.isidentifier() else f"the operator '{name}'"
    hint = ""
    if "text" in kinds:
        hint = ("; the data writes these values as text: cast them first, e.g. "
                "try_cast(column as timestamp) or try_cast(column as double)")
    return f"{operation} cannot be applied to {' and '.join(kinds)}{hint}"


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


def file_view(conn: sa.Connection, name: str, spec: SourceSpec, select: str, label: str,
          time_mode: TimeMode = "instant", text_typed: bool = False,
          unread_rows: int = 0, allowed: list[Path] | None = None) -> RawRelation:
    import duckdb

    setup = [*setup_of(conn), f'CREATE VIEW "raw" AS {select}',
             f"SET TimeZone = {sql_literal(spec.timezone)}"]
    try:
        conn.exec_driver_sql(setup[-2])
        native = describe_columns(conn, '"raw"')
    except (duckdb.Error, sa.exc.DBAPIError) as exc:
        conn.close()
        raise_if_out_of_memory(exc, name, label)
        raise SourceError(name, f"cannot read the data ({duckdb_error(exc)})", label) from None
    table = sa.table("raw", *(sa.column(c) for c in native))
    conn.exec_driver_sql(setup[-1])
    conn.info["setup"] = setup
    # derived columns are SQL too: they run where nothing but the source's file is readable
    fence(conn, [] if allowed is None else allowed)
    setup = setup_of(conn)
    return RawRelation(conn, table, list(native), label, time_mode, native, text_typed,
                       setup=setup, unread_rows=unread_rows)


def fence(conn: sa.Connection, allowed: list[Path]) -> None:
    """Let the DuckDB connection read only the ``allowed`` files from now on: no other file,
    no URL, no extension to install or load, and no setting to undo it.

    Views over the allowed files keep working, since their reads are checked when they run.
    """
    paths = "[" + ", ".join(sql_literal(str(p)) for p in allowed) + "]"
    run_setup(conn, f"SET allowed_paths = {paths}")
    for sql in ("SET autoinstall_known_extensions = false",
                "SET autoload_known_extensions = false",
                "SET enable_external_access = false", "SET lock_configuration = true"):
        run_setup(conn, sql)


def only_a_select(conn: sa.Connection, name: str, query: str, label: str | None) -> None:
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


def query_relation(conn: sa.Connection, name: str, query: str, params: Mapping[str, Any],
                    label: str | None, time_mode: TimeMode, *,
                    duckdb_types: bool = False) -> RawRelation:
    statement = sa.text(query).bindparams(**params) if params else sa.text(query)
    try:
        probe: sa.Select[*tuple[Any, ...]] = sa.select(sa.literal_column("*")).select_from(
            statement.columns().subquery("q")).limit(0)
        keys = list(conn.execute(probe).keys())
    except sa.exc.SQLAlchemyError as exc:
        detail = redact(duckdb_error(exc))
        conn.close()
        raise_if_out_of_memory(exc, name, label)
        if "disabled by configuration" in detail or "disabled through configuration" in detail:
            detail = (f"it reads a file, URL or extension other than the source's declared "
                      f"files, which a query source may not ({detail})")
        raise SourceError(name, f"query failed: {detail}", label) from None
    native: dict[str, NativeKind] = {}
    if duckdb_types:
        compiled = probe.compile(conn, compile_kwargs={"literal_binds": True})
        native = describe_columns(conn, f"({compiled})")
    table = statement.columns(*(sa.column(k) for k in keys)).subquery("raw")
    database = conn.engine.url.database if conn.dialect.name == "sqlite" else None
    return RawRelation(conn, table, keys, label, time_mode, native, params=params,
                       setup=setup_of(conn), database=database)
