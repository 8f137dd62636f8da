"""SQL sources, read in their own database through SQLAlchemy; SQLite gets the aggregate
functions the statements need.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen._lazy import lazy
from reportgen.data.connectors import CONTROL_CHARACTERS, SOURCES, RawRelation, TimeMode, resolve
from reportgen.data.relations import native_kind, query_relation
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import OptionalDependencyError, SourceError
from reportgen.secrets import redact

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy("sqlalchemy")  # only a run needs it: ``validate`` checks source kinds by name


SQLITE_PATH = re.compile(r"^sqlite(\+\w+)?:///(?!/)(?P<path>[^?]+)")


def contract_number(value: Any, whole: int) -> float | None:
    """The value as a number (a whole one when asked), else None: the column contract's
    reading of a SQLite value stored as text."""
    try:
        x = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if x != x or (whole and not x.is_integer()):
        return None
    return x


def sqlite_aggregates(dbapi_connection: Any, _record: Any) -> None:
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

    def printable(value: Any) -> Any:
        """Text without control characters (see ``reportgen.data.column_values.printable``)."""
        if not isinstance(value, str):
            return value
        return value.translate(dict.fromkeys(map(ord, CONTROL_CHARACTERS)))

    dbapi_connection.create_aggregate("var_samp", 1, VarSamp)
    dbapi_connection.create_function("reportgen_number", 2, contract_number,
                                     deterministic=True)
    dbapi_connection.create_function("reportgen_printable", 1, printable, deterministic=True)


def sql_engine(name: str, url: str, base_dir: Path) -> sa.Engine:
    # Relative SQLite paths are taken relative to the definition, like every other path.
    match = SQLITE_PATH.match(url)
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
        sa.event.listen(engine, "connect", sqlite_aggregates)
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
            return query_relation(conn, name, spec.query, params, label, mode)
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
        native = {c["name"]: native_kind(str(c["type"])) for c in described}
        table = sa.table(table_name, *(sa.column(c) for c in native), schema=schema or None)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        return RawRelation(conn, table, list(native), label, mode, native, database=database)
