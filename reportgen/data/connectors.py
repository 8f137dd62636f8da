"""Connectors: open a source where its data lives and describe its raw columns.

Files (CSV, Parquet, Excel) and DuckDB queries are opened in an embedded DuckDB database,
one per source (``duckdb_sources``, ``csv_source``); SQL sources in their own database
through SQLAlchemy (``sql_source``).  A connector reads no rows: it returns a relation that
later queries select from, so the aggregation runs where the data is and only small results
come back.  This module holds what every connector shares: the relation it returns, the
protocol and the registry of source kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from reportgen._lazy import lazy
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import SourceError
from reportgen.registry import Registry

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
#: a regular expression matching any of CONTROL_CHARACTERS
CONTROL_CLASS = "[" + "".join(f"\\x{ord(c):02x}" for c in CONTROL_CHARACTERS) + "]"
#: Values read as missing in CSV files' other columns, as pandas and spreadsheet exports
#: write them.
CSV_NULLS = ("", "#N/A", "#NA", "N/A", "NA", "n/a", "NULL", "null", "NaN", "nan", "None", "<NA>")
#: text a file writes for "no value" in a number column: read as blank and counted
PLACEHOLDERS = ("nan", "-nan", "null", "n/a", "na", "#n/a", "#na", "none", "<na>", "-", "--")
#: a time written with an offset (Z, +02, -05:30) at its end
OFFSET = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


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
    #: raw text columns known to hold no control characters (nothing to remove or count)
    printable: frozenset[str] = frozenset()
    #: raw number columns known to hold only finite numbers (no inf or NaN to count)
    finite: frozenset[str] = frozenset()
    #: each row's data row number in its file (from 1), where the rows are not read in the
    #: file's order (a CSV's typed copy); None: the rows' order is the file's
    data_row: Any = None
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
    #: for a source read once into DuckDB: the database it was read from, the reading
    #: statement, its parameters and the table it filled, for replaying the read
    reading: tuple[str, str, list[Any], str] | None = None

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
    builtins=("reportgen.data.duckdb_sources", "reportgen.data.sql_source",
              "reportgen.data.csv_source"),
)


def resolve(base_dir: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base_dir / candidate)


def existing_file(name: str, spec: SourceSpec, base_dir: Path) -> Path:
    assert spec.path is not None
    path = resolve(base_dir, spec.path)
    if not path.is_file():
        raise SourceError(name, f"file not found: {path}", str(path))
    return path
