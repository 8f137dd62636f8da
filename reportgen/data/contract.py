"""The column contract: does every value a column's declared type must read, read?

One query counts, per checked column, the values its type cannot read; only when there are
some does a second one find the first (its data row and value) for the error.  The time
column is the exception that is counted rather than refused: a few unreadable times are
damage (those rows are dropped and the data-quality note counts them), while day/month
dates without a declared ``date_format`` (ambiguous) or a column where more than half of
the times cannot be read (the wrong column or format) stop the run with a located error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from reportgen.data.canonical import Canonical, Window, _bounds, _time
from reportgen.data.column_values import mapped, text, typed_value, without_placeholder
from reportgen.data.connectors import RawRelation
from reportgen.definition.content_specs import SourceSpec
from reportgen.definition.pii import personal_columns
from reportgen.errors import SourceError

EXPECTED = {
    "int": "a whole number", "float": "a number", "bool": "true/false (1/0, yes/no)",
    "datetime": "a date", "time": "a date and time such as 2026-10-03 14:22:05 (time column)",
}
_DAY_MONTH = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_AMBIGUOUS = ("; a date with day and month as numbers is ambiguous (03/04/2026 is 3 April or "
              "March 4): declare the source's date_format, e.g. '%d/%m/%Y %H:%M'")


def check_contract(canonical: Canonical, spec: SourceSpec, window: Window) -> None:
    """Raise SourceError naming the first value a column's declared type cannot read.

    The time column is checked over every row; the other columns over the window's rows.
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
    timed = raw.native.get(time_name) != "time"  # then checks[0] is the time column's
    if timed:
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
            source = mapped(source, spec.values[col])
        if kind in ("int", "float"):
            source = without_placeholder(source, raw)  # read as blank, and counted
        typed = typed_value(source, kind, raw.dialect, raw,
                            None if col in spec.values else raw_name, finite_only=False)
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

    def ambiguous(checked: sa.Subquery) -> ColumnElement[Any]:
        if spec.date_format or not timed:
            return sa.false()
        return sa.and_(bad(checked, 0), sa.func.regexp_matches(checked.c["s0"],
                                                               _DAY_MONTH.pattern))

    checked = sa.select(*parts).select_from(raw.table).subquery("checked")
    written = sa.and_(checked.c["s0"].is_not(None), sa.func.trim(checked.c["s0"]) != "") \
        if timed else sa.false()
    counts = raw.connection.execute(sa.select(
        *(sa.func.count().filter(bad(checked, i)) for i in range(len(checks))),
        sa.func.count().filter(written), sa.func.count().filter(ambiguous(checked)),
    ).select_from(checked)).one()
    for i, (col, expected, *_rest) in enumerate(checks):
        if not counts[i]:
            continue
        count, only, why = int(counts[i]), None, ""
        if timed and i == 0:
            times, day_month = int(counts[-2]), int(counts[-1])
            if day_month:
                count, only, why = day_month, ambiguous, _AMBIGUOUS
            elif 2 * count <= times:
                continue  # damage, not a wrong column: dropped and counted (data quality)
            else:
                why = (f"; {count:,} of the {times:,} times cannot be read: more than half, "
                       "so the column or its format is wrong rather than a few values "
                       "damaged (declare date_format if the times are written another way)")
        data_row = sa.func.row_number().over() if raw.data_row is None else raw.data_row
        numbered = sa.select(*parts, data_row.label("__row__")) \
            .select_from(raw.table).subquery("numbered")
        first = bad(numbered, i) if only is None else only(numbered)
        row = raw.connection.execute(
            sa.select(numbered.c["__row__"], numbered.c[f"s{i}"]).where(first)
            .order_by(numbered.c["__row__"]).limit(1)).one()
        # never quote personal data into an error (it reaches stderr and the run record)
        found = "a value" if col in personal_columns(spec) else repr(row[1])
        raise SourceError(canonical.name, f"column '{col}': expected {expected}, found "
                          f"{found} in data row {int(row[0])} ({count:,} such value(s))"
                          f"{why}", raw.label)


def sqlite_checks(spec: SourceSpec, raw: RawRelation) -> list[SqliteCheck]:
    """SQLite stores any value in any column: per declared number column, the condition
    "this value is text the contract's number cannot read, or a fraction in a whole-number
    column"."""
    checks: list[SqliteCheck] = []
    for col, kind in spec.columns.items():
        if kind not in ("int", "float") or col == spec.time_column or col in spec.values \
                or col in spec.derive:
            continue
        source = raw.table.c[spec.rename.get(col, col)]
        readable = sa.func.reportgen_number(source, 1 if kind == "int" else 0)
        stored_text = sa.and_(sa.func.typeof(source) == "text", sa.func.trim(source) != "")
        bad = sa.and_(stored_text, readable.is_(None))
        fraction = None
        if kind == "int":
            fraction = sa.and_(sa.func.typeof(source) == "real",
                               source != sa.cast(source, sa.Integer))
            bad = sa.or_(bad, fraction)
        checks.append(SqliteCheck(col, kind, source, bad, stored_text, fraction))
    return checks


def has_rowid(raw: RawRelation) -> bool:
    """Whether SQLite source ``raw`` is a table whose rows are numbered (``rowid``): not a
    query, a view (SQLite builds with and without rowids for views) or a table WITHOUT
    ROWID."""
    table = raw.table
    if not isinstance(table, sa.TableClause) or isinstance(table, sa.Subquery):
        return False
    schema = f'"{table.schema}".' if getattr(table, "schema", None) else ""
    found = raw.connection.exec_driver_sql(
        f"SELECT type, sql FROM {schema}sqlite_master WHERE name = ?", (table.name,)).first()
    return found is not None and found[0] == "table" \
        and "without rowid" not in " ".join(str(found[1] or "").lower().split())


@dataclass(frozen=True)
class SqliteCheck:
    """One declared number column's check.  ``bad`` is the whole condition (it calls the
    Python number test, ``sql_source.contract_number``); ``stored_text`` (text not blank:
    the number test decides) and ``fraction`` (a fraction stored as a real in a whole-number
    column; None for ``float``) are its two parts in SQLite's own SQL."""

    column: str
    kind: str
    source: ColumnElement[Any]
    bad: ColumnElement[Any]
    stored_text: ColumnElement[Any]
    fraction: ColumnElement[Any] | None


def unreadable(name: str, spec: SourceSpec, label: str | None, check: SqliteCheck,
               count: int, first: Any, example: Any) -> SourceError:
    """The error for ``count`` values of a checked column its type cannot read, the first
    in data row ``first`` (None when the rows have no number), ``example`` its text."""
    located = f" in data row {first}" if first is not None else ""
    # never quote personal data into an error (it reaches stderr and the run record)
    found = "a value" if check.column in personal_columns(spec) else repr(example)
    return SourceError(name, f"column '{check.column}': expected {EXPECTED[check.kind]}, found "
                       f"{found}{located} ({count} such value(s))", label)


def _check_sqlite(canonical: Canonical, spec: SourceSpec) -> None:
    """Find the values the contract's numbers cannot read among the window's rows, like
    every other column check.  One scan counts every column's unreadable values and its
    first row; only a column that has some is read again for its example."""
    raw = canonical.raw
    is_table = has_rowid(raw)
    row = sa.literal_column("rowid") if is_table else sa.literal(None)
    checks = sqlite_checks(spec, raw)
    if not checks:
        return
    measures: list[ColumnElement[Any]] = []
    for check in checks:
        measures += [sa.func.count().filter(check.bad), sa.func.min(sa.case((check.bad, row)))]
    found_counts = raw.connection.execute(
        sa.select(*measures).select_from(raw.table)
        .where(sa.or_(*(check.bad for check in checks)), canonical.in_window)).one()
    for i, check in enumerate(checks):
        count, first = found_counts[2 * i], found_counts[2 * i + 1]
        if not count:
            continue
        example = raw.connection.execute(
            sa.select(text(check.source)).select_from(raw.table)
            .where(check.bad, canonical.in_window)
            .order_by(row if is_table else text(check.source)).limit(1)).scalar()
        raise unreadable(canonical.name, spec, raw.label, check, count, first, example)
