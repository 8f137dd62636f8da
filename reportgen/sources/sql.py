"""SQL connectors: any SQLAlchemy URL, and DuckDB queries over files."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from reportgen.definition.models import SourceSpec
from reportgen.errors import OptionalDependencyError, SourceError
from reportgen.secrets import redact
from reportgen.sources.base import SOURCES, RawFrame, Window, resolve

_SQLITE_PATH = re.compile(r"^sqlite(\+\w+)?:///(?!/)(?P<path>[^?]+)")


def _engine(name: str, url: str, base_dir: Path) -> sa.Engine:
    # Relative SQLite paths are taken relative to the definition, like every other path.
    match = _SQLITE_PATH.match(url)
    if match and match["path"] != ":memory:":
        path = resolve(base_dir, match["path"])
        if not path.is_file():
            raise SourceError(name, f"SQLite database not found: {path}", str(path))
        url = url.replace(match["path"], str(path), 1)
    try:
        return sa.create_engine(url)
    except ModuleNotFoundError as exc:
        raise OptionalDependencyError(f"the database URL {redact(url)!r}", "postgres", exc.name or "driver") from None
    except sa.exc.ArgumentError as exc:
        raise SourceError(name, f"not a valid database URL {redact(url)!r} ({exc})") from None


def _bounds(engine: sa.Engine, spec: SourceSpec, window: Window) -> dict[str, Any]:
    start, end = window.naive_in(spec.timezone)
    if engine.dialect.name == "sqlite":  # SQLite keeps times as text: compare as text
        return {"start": f"{start:%Y-%m-%d %H:%M:%S}", "end": f"{end:%Y-%m-%d %H:%M:%S}"}
    return {"start": start, "end": end}


@SOURCES.register("sql")
class SqlConnector:
    """Reads a table or a query through SQLAlchemy; the window is bound as :start and :end."""

    def read(self, name: str, spec: SourceSpec, columns: Sequence[str], window: Window,
             base_dir: Path) -> RawFrame:
        assert spec.url is not None
        engine = _engine(name, spec.url, base_dir)
        where = redact(spec.url)
        try:
            with engine.connect() as conn:
                bounds = _bounds(engine, spec, window)
                if spec.table is not None:
                    inspector = sa.inspect(conn)
                    if not inspector.has_table(spec.table):
                        tables = ", ".join(inspector.get_table_names() + inspector.get_view_names())
                        raise SourceError(name, f"table '{spec.table}' not found (tables: {tables})", where)
                    available = [c["name"] for c in inspector.get_columns(spec.table)]
                    wanted = [c for c in columns if c in available]
                    table = sa.table(spec.table, *(sa.column(c) for c in available))
                    time = table.c[spec.rename.get(spec.time_column, spec.time_column)] \
                        if spec.rename.get(spec.time_column, spec.time_column) in available else None
                    query = sa.select(*(table.c[c] for c in wanted))
                    if time is not None:
                        query = query.where(time >= bounds["start"], time < bounds["end"])
                    frame = pd.read_sql(query, conn)
                    return RawFrame(frame, available, where, windowed=True)
                assert spec.query is not None
                statement = sa.text(spec.query)
                used = {k: v for k, v in bounds.items() if re.search(rf":{k}\b", spec.query)}
                frame = pd.read_sql(statement, conn, params=used)
                return RawFrame(frame, list(frame.columns), where, windowed=bool(used))
        except sa.exc.SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc)
            raise SourceError(name, f"query failed: {redact(detail).splitlines()[0]}", where) from None
        finally:
            engine.dispose()


@SOURCES.register("duckdb")
class DuckDbConnector:
    """Runs a DuckDB query over data files (declared in ``files``) or a DuckDB database."""

    def read(self, name: str, spec: SourceSpec, columns: Sequence[str], window: Window,
             base_dir: Path) -> RawFrame:
        import duckdb

        assert spec.query is not None
        database = str(resolve(base_dir, spec.path)) if spec.path else ":memory:"
        try:
            conn = duckdb.connect(database, read_only=spec.path is not None)
        except duckdb.Error as exc:
            raise SourceError(name, f"cannot open DuckDB database ({exc})", database) from None
        try:
            for view, file in spec.files.items():
                path = resolve(base_dir, file)
                if not path.is_file():
                    raise SourceError(name, f"file for view '{view}' not found: {path}", str(path))
                reader = "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv_auto"
                literal = str(path).replace("'", "''")
                conn.execute(f'CREATE VIEW "{view}" AS SELECT * FROM {reader}(\'{literal}\')')
            start, end = window.naive_in(spec.timezone)
            params: dict[str, datetime] = {}
            for key, value in (("start", start), ("end", end)):
                if re.search(rf"\${key}\b", spec.query):
                    params[key] = value
            frame = conn.execute(spec.query, params).df()
        except duckdb.Error as exc:
            raise SourceError(name, f"query failed: {str(exc).splitlines()[0]}", database) from None
        finally:
            conn.close()
        return RawFrame(frame, list(frame.columns), database if spec.path else None,
                        windowed=bool(params))
