"""The rows a definition sees: renamed, values mapped, typed, in the window, with periods.

Everything here is a SQL expression over the connector's raw relation, so it runs where the
data lives.  The column contract is checked by a query that counts the values a column's
type cannot read and names the first one (column, value, data row), in the words the
pandas loader used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from reportgen.data.connectors import RawRelation
from reportgen.data.quality import counting_statement
from reportgen.definition.models import SourceSpec
from reportgen.errors import MissingColumnsError, SourceError
from reportgen.period import Period, zone
from reportgen.privacy import missing_in_data, personal_columns

PERIOD = "__period__"
TIME = "__time__"
COPY = "__copy__"

EXPECTED = {
    "int": "a whole number", "float": "a number", "bool": "true/false (1/0, yes/no)",
    "datetime": "a date", "time": "a date and time such as 2026-10-03 14:22:05 (time column)",
}
_TRUE = ("1", "true", "t", "yes", "y", "1.0")
_FALSE = ("0", "false", "f", "no", "n", "0.0")


@dataclass(frozen=True)
class Window:
    """The instants to load: ``[start, end)``, timezone-aware."""

    start: datetime
    end: datetime

    def naive_in(self, tz: str) -> tuple[datetime, datetime]:
        z = zone(tz)
        return (self.start.astimezone(z).replace(tzinfo=None),
                self.end.astimezone(z).replace(tzinfo=None))


def text(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.cast(expr, sa.String)


def try_number(expr: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The value as a float, or NULL where it is not a number (DuckDB); a plain cast elsewhere."""
    if dialect == "duckdb":
        return sa.func.try_cast(sa.literal_column(f"({_sql(expr, dialect)}) AS DOUBLE"))
    return sa.cast(expr, sa.Double)


def _sql(expr: ColumnElement[Any], dialect: str) -> str:
    from sqlalchemy.dialects import postgresql

    # DuckDB speaks PostgreSQL's SQL; TRY_CAST needs its operand as text in the call.
    return str(expr.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def flag_of_text(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """1, 0 or NULL from 1/0, true/false, yes/no text (any case, spaces trimmed)."""
    value = sa.func.lower(sa.func.trim(text(expr)))
    return sa.case((value.in_(_TRUE), 1), (value.in_(_FALSE), 0), else_=sa.null())


@dataclass
class Canonical:
    """A source's rows as the definition names and types them, restricted to the window.

    ``rows`` selects every needed column under its definition name, plus ``__period__``
    (the index of the row's period in ``periods``) and ``__time__`` (the row's time).
    """

    name: str
    raw: RawRelation
    rows: sa.Subquery
    kinds: Mapping[str, str]
    periods: tuple[Period, ...]
    in_window: ColumnElement[Any]  # the window as a condition on the raw relation
    #: one statement counting, per period, the rows dropped and values read as empty
    quality: sa.Select[Any] | None = None
    #: the numeric columns whose inf and NaN values ``quality`` counts, in its order
    quality_columns: tuple[str, ...] = ()

    @property
    def dialect(self) -> str:
        return self.raw.dialect



def build(name: str, spec: SourceSpec, raw: RawRelation, needed: Sequence[str],
          window: Window, periods: Sequence[Period]) -> Canonical:
    """The canonical rows of ``raw`` for ``needed`` columns (raises on missing columns)."""
    derived = [c for c in dict.fromkeys([*spec.columns, *needed]) if c in spec.derive]
    ours = [c for c in dict.fromkeys([spec.time_column, *spec.columns, *spec.dedupe_on, *needed])
            if c not in spec.derive]
    read_by: dict[str, str] = {}
    for column in derived:  # the columns a derived column reads are needed too
        for needed_column in _derive_inputs(spec, column):
            if needed_column not in ours and needed_column not in spec.derive:
                ours.append(needed_column)
                read_by[needed_column] = column
    raw_names = {col: spec.rename.get(col, col) for col in ours}
    missing = [col for col in ours if raw_names[col] not in raw.available]
    if missing:
        labels = [(f"{c} (renamed from '{raw_names[c]}')" if c != raw_names[c] else c)
                  + (f" (read by derived column '{read_by[c]}')" if c in read_by else "")
                  for c in missing]
        raise MissingColumnsError(name, labels, list(raw.available), raw.label)
    unmatched = missing_in_data(spec, raw.available)
    if unmatched:
        raise SourceError(name, f"pii: {', '.join(repr(c) for c in unmatched)} matches no column "
                          f"of the data (by its header or its renamed name; columns: "
                          f"{', '.join(raw.available)})", raw.label)
    dialect = raw.dialect
    if spec.date_format and dialect != "duckdb":
        raise SourceError(name, "date_format applies to file and DuckDB sources; a database "
                                "source's times are read with the database's own types", raw.label)
    settle_time_mode(raw, spec)
    columns: dict[str, ColumnElement[Any]] = {}
    kinds: dict[str, str] = {}
    for col in ours:
        value: ColumnElement[Any] = raw.table.c[raw_names[col]]
        if col in spec.values:
            value = _mapped(value, spec.values[col])
        kind = spec.columns.get(col)
        if col == spec.time_column:
            continue
        if kind is None:
            native = raw.native.get(raw_names[col], "unknown")
            if col in spec.values:
                native = "unknown"
            kinds[col] = {"number": "float", "text": "str", "bool": "bool"}.get(native, "unknown")
        else:
            kinds[col] = kind
            value = _typed(value, kind, dialect, raw, raw_names[col] if col not in spec.values else None)
        columns[col] = value
    time = _time(raw, spec)
    bounds = _bounds(raw, spec, window, periods)
    start, end = bounds[0], bounds[-1]
    in_window = sa.and_(time >= sa.literal(start), time < sa.literal(end))
    period = sa.case(*((sa.and_(time >= sa.literal(bounds[i]), time < sa.literal(bounds[i + 1])), i)
                       for i in range(len(periods))), else_=sa.null())
    selected = [value.label(col) for col, value in columns.items()]
    selected += [time.label(TIME), period.label(PERIOD), time.label(spec.time_column)]
    keys = [columns[k] for k in spec.dedupe_on if k in columns]
    if keys:  # the first row of each key (the earliest) stands; the others are counted
        copy = sa.func.row_number().over(partition_by=keys, order_by=time).label(COPY)
        numbered = sa.select(*selected, copy).select_from(raw.table).where(in_window) \
            .subquery("numbered")
        rows = sa.select(*(c for c in numbered.c if c.key != COPY)) \
            .where(numbered.c[COPY] == 1).subquery("rows")
    else:
        rows = sa.select(*selected).select_from(raw.table).where(in_window).subquery("rows")
    if derived:
        rows = _with_derived(name, spec, rows, derived, dialect, kinds, raw.label, "rows")
    non_finite = _non_finite(spec, raw, ours)
    quality = counting_statement(spec, raw, time, period, in_window, keys, non_finite)
    return Canonical(name, raw, rows, kinds, tuple(periods), in_window, quality,
                     tuple(non_finite))


def _non_finite(spec: SourceSpec, raw: RawRelation,
                ours: Sequence[str]) -> dict[str, ColumnElement[Any]]:
    """Per numeric column, the condition 'holds inf or NaN' (read as empty): DuckDB only,
    since a typed database column and SQLite's number test never yield them."""
    if raw.dialect != "duckdb":
        return {}
    out: dict[str, ColumnElement[Any]] = {}
    for col in ours:
        if spec.columns.get(col) not in ("int", "float") or col == spec.time_column:
            continue
        raw_name = spec.rename.get(col, col)
        if spec.columns[col] == "int" and raw.native.get(raw_name) == "number" \
                and col not in spec.values:
            continue  # read as the database typed it (see _typed)
        value: ColumnElement[Any] = raw.table.c[raw_name]
        if col in spec.values:
            value = _mapped(value, spec.values[col])
        number = try_number(value, raw.dialect)
        out[col] = sa.and_(number.is_not(None), sa.not_(sa.func.isfinite(number)))
    return out


def _derive_inputs(spec: SourceSpec, name: str) -> list[str]:
    from reportgen.data.derive import columns_of

    return columns_of(spec.derive[name])


def _with_derived(source: str, spec: SourceSpec, rows: sa.Subquery, derived: Sequence[str],
                  dialect: str, kinds: dict[str, str], label: str | None,
                  alias: str) -> sa.Subquery:
    """``rows`` plus the derived columns, computed over its (typed, renamed) columns."""
    from reportgen.data.derive import render

    known = [c.key for c in rows.c if not c.key.startswith("__")]
    extra = []
    for column in derived:
        try:
            sql = render(spec.derive[column], dialect, known)
        except ValueError as exc:
            raise SourceError(source, f"derived column '{column}': {exc}", label) from None
        value: ColumnElement[Any] = sa.literal_column(sql)
        kind = spec.columns.get(column)
        if kind in ("int", "float"):
            value = sa.cast(value, sa.Double)
        kinds[column] = kind or "unknown"
        extra.append(value.label(column))
    return sa.select(*rows.c, *extra).select_from(rows).subquery(alias)


def _bounds(raw: RawRelation, spec: SourceSpec, window: Window,
            periods: Sequence[Period]) -> list[Any]:
    instants = [p.start_at for p in periods] + [periods[-1].end_at] if periods else \
        [window.start, window.end]
    instants[0] = min(instants[0], window.start)
    if raw.time_mode == "instant":
        return instants
    z = zone(spec.timezone)
    naive = [t.astimezone(z).replace(tzinfo=None) for t in instants]
    if raw.time_mode == "text":
        return [f"{t:%Y-%m-%d %H:%M:%S}" for t in naive]
    return naive


_DAY_MONTH = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_OFFSET = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def settle_time_mode(raw: RawRelation, spec: SourceSpec) -> None:
    """Compare a DuckDB source's times as naive local times unless they carry offsets.

    Reading text as an instant needs the timezone library on every row (several times
    slower at 10M rows); times written without an offset are local times of the source's
    timezone, and the window's bounds are converted to those instead.  A sample of the
    column decides; a column of instants (TIMESTAMPTZ, or text with offsets) stays one.
    """
    if raw.dialect != "duckdb" or raw.time_mode != "instant":
        return
    if spec.date_format:  # the format says whether times carry an offset
        raw.time_mode = "instant" if "%z" in spec.date_format.lower() else "naive"
        return
    column = raw.table.c[spec.rename.get(spec.time_column, spec.time_column)]
    if raw.native.get(column.name) == "time":
        kind = raw.connection.execute(sa.select(sa.func.typeof(column)).select_from(raw.table)
                                      .limit(1)).scalar()
        if kind is None or "TIME ZONE" not in str(kind).upper():
            raw.time_mode = "naive"
        return
    sample = sa.select(column).select_from(raw.table).where(column.is_not(None)).limit(1000) \
        .subquery("sample")
    offsets = raw.connection.execute(sa.select(sa.func.count()).select_from(sample).where(
        sa.func.regexp_matches(sa.func.trim(text(sample.c[column.name])), _OFFSET))).scalar()
    if not offsets:
        raw.time_mode = "naive"


def _time(raw: RawRelation, spec: SourceSpec) -> ColumnElement[Any]:
    column = raw.table.c[spec.rename.get(spec.time_column, spec.time_column)]
    native = raw.native.get(spec.rename.get(spec.time_column, spec.time_column), "unknown")
    if raw.dialect != "duckdb" or native == "time":
        return column
    if spec.date_format:
        return sa.func.try_strptime(sa.func.trim(text(column)), spec.date_format)
    # The connection's TimeZone is the source's: naive times are read in it, offsets honoured.
    kind = "TIMESTAMPTZ" if raw.time_mode == "instant" else "TIMESTAMP"
    return sa.func.try_cast(sa.literal_column(f"{_quoted(column)} AS {kind}"))


def _quoted(column: Any) -> str:
    return '"' + str(column.name).replace('"', '""') + '"'


def _mapped(value: ColumnElement[Any], mapping: Mapping[Any, Any]) -> ColumnElement[Any]:
    """Raw values mapped as text, matched without regard to case or surrounding spaces."""
    key = sa.func.lower(sa.func.trim(text(value)))
    whens = [(key == str(k).strip().lower(), sa.null() if v is None else sa.literal(str(v)))
             for k, v in mapping.items()]
    return sa.case(*whens, else_=text(value)) if whens else value


def _typed(value: ColumnElement[Any], kind: str, dialect: str, raw: RawRelation,
           raw_name: str | None, finite_only: bool = True) -> ColumnElement[Any]:
    native = raw.native.get(raw_name, "unknown") if raw_name else "unknown"
    if kind in ("str", "category"):
        return value if native == "text" else text(value)
    if kind in ("int", "float"):
        if native == "number" and (dialect != "duckdb" or kind == "int"):
            # a typed integer column holds no inf or NaN (and a BIGINT keeps every digit)
            return sa.cast(value, sa.Double) if kind == "float" else value
        number = try_number(value, dialect) if native != "number" else sa.cast(value, sa.Double)
        if dialect == "duckdb":
            # inf and NaN are no measurement: read as empty (and counted), or, for the
            # contract check, as readable; a whole number too large for 64 bits is unreadable
            finite = sa.func.isfinite(number)
            if kind == "int":
                whole = sa.func.try_cast(sa.literal_column(f"({_sql(number, dialect)}) AS BIGINT"))
                return sa.case((sa.not_(finite), sa.null() if finite_only else number),
                               (whole == number, whole), else_=sa.null())
            return sa.case((finite, number), else_=sa.null() if finite_only else number)
        if kind == "int":
            whole = sa.cast(number, sa.BigInteger)
            return sa.case((whole == number, whole), else_=sa.null())
        return number
    if kind == "bool":
        if native == "bool":
            return value
        if native == "number":
            return sa.case((value.is_(None), sa.null()), (value != 0, True), else_=False)
        flag = flag_of_text(value)
        return sa.case((flag == 1, True), (flag == 0, False), else_=sa.null())
    if kind == "datetime":
        if native == "time" or dialect != "duckdb":
            return value
        return sa.func.try_cast(sa.literal_column(f"({_sql(text(value), dialect)}) AS TIMESTAMP"))
    return value


def check_contract(canonical: Canonical, spec: SourceSpec, window: Window) -> None:
    """Raise SourceError naming the first value a column's declared type cannot read.

    The time column is checked over every row; the other columns over the window's rows.
    One query counts the unreadable values of every column; only when there are some does
    a second one find the first (its data row and value).
    """
    raw = canonical.raw
    if raw.dialect == "sqlite":
        _check_sqlite(canonical, spec)
        return
    if raw.dialect != "duckdb":
        return  # a typed database enforces its column types itself
    time_name = spec.rename.get(spec.time_column, spec.time_column)
    time = _time(raw, spec)
    checks: list[tuple[str, str, ColumnElement[Any], ColumnElement[Any], bool]] = []
    if raw.native.get(time_name) != "time":
        expected = (f"a date and time written as date_format '{spec.date_format}' says"
                    if spec.date_format else EXPECTED["time"])
        checks.append((spec.time_column, expected, raw.table.c[time_name], time, False))
    for col, kind in spec.columns.items():
        raw_name = spec.rename.get(col, col)
        if col == spec.time_column or kind in ("str", "category") or col not in canonical.kinds \
                or col in spec.derive:
            continue
        if raw.native.get(raw_name) in ("number", "bool", "time") and col not in spec.values:
            continue
        source: ColumnElement[Any] = raw.table.c[raw_name]
        if col in spec.values:
            source = _mapped(source, spec.values[col])
        typed = _typed(source, kind, raw.dialect, raw, None if col in spec.values else raw_name,
                       finite_only=False)
        checks.append((col, EXPECTED["float" if kind == "float" else kind], source, typed, True))
    if not checks:
        return
    bounds = _bounds(raw, spec, window, canonical.periods)
    start, end = bounds[0], bounds[-1]
    parts = [raw.table.c[time_name].label("__raw_time__"), time.label("__t__")]
    for i, (_, _, source, typed, _) in enumerate(checks):
        parts += [text(source).label(f"s{i}"), typed.label(f"t{i}")]

    def bad(checked: sa.Subquery, i: int) -> ColumnElement[Any]:
        condition = sa.and_(checked.c[f"t{i}"].is_(None), checked.c[f"s{i}"].is_not(None),
                            sa.func.trim(checked.c[f"s{i}"]) != "")
        if checks[i][4]:
            condition = sa.and_(condition, checked.c["__t__"] >= sa.literal(start),
                                checked.c["__t__"] < sa.literal(end))
        return condition

    checked = sa.select(*parts).select_from(raw.table).subquery("checked")
    counts = raw.connection.execute(sa.select(
        *(sa.func.count().filter(bad(checked, i)) for i in range(len(checks)))
    ).select_from(checked)).one()
    for i, (col, expected, *_rest) in enumerate(checks):
        if not counts[i]:
            continue
        numbered = sa.select(*parts, sa.func.row_number().over().label("__row__")) \
            .select_from(raw.table).subquery("numbered")
        row = raw.connection.execute(
            sa.select(numbered.c["__row__"], numbered.c[f"s{i}"]).where(bad(numbered, i))
            .order_by(numbered.c["__row__"]).limit(1)).one()
        # never quote personal data into an error (it reaches stderr and the run record)
        found = "a value" if col in personal_columns(spec) else repr(row[1])
        hint = ""
        if col == spec.time_column and not spec.date_format and _DAY_MONTH.match(str(row[1])):
            hint = ("; a date with day and month as numbers is ambiguous (03/04/2026 is 3 April "
                    "or March 4): declare the source's date_format, e.g. '%d/%m/%Y %H:%M'")
        raise SourceError(canonical.name, f"column '{col}': expected {expected}, found "
                          f"{found} in data row {int(row[0])} ({int(counts[i])} such value(s))"
                          f"{hint}", raw.label)


def _check_sqlite(canonical: Canonical, spec: SourceSpec) -> None:
    """SQLite stores any value in any column: find text the contract's numbers cannot read
    (among the window's rows, like every other column check).  One scan counts every
    column's unreadable values and its first row; only a column that has some is read again
    for its example."""
    raw = canonical.raw
    is_table = isinstance(raw.table, sa.TableClause)
    row = sa.literal_column("rowid") if is_table else sa.literal(None)
    checks: list[tuple[str, str, ColumnElement[Any], ColumnElement[Any]]] = []
    for col, kind in spec.columns.items():
        if kind not in ("int", "float") or col == spec.time_column or col in spec.values \
                or col in spec.derive:
            continue
        source = raw.table.c[spec.rename.get(col, col)]
        readable = sa.func.reportgen_number(source, 1 if kind == "int" else 0)
        bad = sa.and_(sa.func.typeof(source) == "text", sa.func.trim(source) != "",
                      readable.is_(None))
        checks.append((col, kind, source, bad))
    if not checks:
        return
    measures: list[ColumnElement[Any]] = []
    for _, _, _, bad in checks:
        measures += [sa.func.count().filter(bad), sa.func.min(sa.case((bad, row)))]
    found_counts = raw.connection.execute(
        sa.select(*measures).select_from(raw.table)
        .where(sa.or_(*(bad for *_, bad in checks)), canonical.in_window)).one()
    for i, (col, kind, source, bad) in enumerate(checks):
        count, first = found_counts[2 * i], found_counts[2 * i + 1]
        if not count:
            continue
        example = raw.connection.execute(
            sa.select(source).select_from(raw.table).where(bad, canonical.in_window)
            .order_by(row if is_table else source).limit(1)).scalar()
        located = f" in data row {first}" if first is not None else ""
        found = "a value" if col in personal_columns(spec) else repr(example)
        raise SourceError(canonical.name, f"column '{col}': expected {EXPECTED[kind]}, found "
                          f"{found}{located} ({count} such value(s))", raw.label)
