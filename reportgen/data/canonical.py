"""The rows a definition sees: renamed, values mapped, typed, in the window, with periods.

Everything here is a SQL expression over the connector's raw relation, so it runs where the
data lives.  The column contract is checked over the same expressions (see
:mod:`reportgen.data.contract`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from reportgen.data.column_values import (
    mapped,
    placeholder,
    printable,
    text,
    try_number,
    typed_value,
    without_placeholder,
)
from reportgen.data.connectors import OFFSET, RawRelation
from reportgen.data.privacy import missing_in_data
from reportgen.data.quality import CONTROL, counting_statement
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import MissingColumnsError, SourceError
from reportgen.period import Period, zone

PERIOD = "__period__"
TIME = "__time__"
COPY = "__copy__"


@dataclass(frozen=True)
class Window:
    """The instants to load: ``[start, end)``, timezone-aware."""

    start: datetime
    end: datetime

    def naive_in(self, tz: str) -> tuple[datetime, datetime]:
        z = zone(tz)
        return (self.start.astimezone(z).replace(tzinfo=None),
                self.end.astimezone(z).replace(tzinfo=None))


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
    quality: sa.Select[Any] | sa.CompoundSelect[*tuple[Any, ...]] | None = None
    #: (reason, column) of the values ``quality`` counts per column, in its order: inf and
    #: NaN numbers, placeholder text in number columns
    quality_columns: tuple[tuple[str, str], ...] = ()
    #: per derived column, a statement computing it alone over no rows: run before any
    #: other, so an expression the columns' types do not fit is told as that column's
    derived_probes: Mapping[str, sa.Select[Any]] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.raw.dialect


def build(name: str, spec: SourceSpec, raw: RawRelation, needed: Sequence[str],
          window: Window, periods: Sequence[Period]) -> Canonical:
    """The canonical rows of ``raw`` for ``needed`` columns (raises on missing columns)."""
    ours, derived = columns_read(name, spec, raw, needed)
    settle_time_mode(raw, spec)
    columns, kinds, controls = typed_columns(spec, raw, ours)
    time = _time(raw, spec)
    bounds = _bounds(raw, spec, window, periods)
    in_window = sa.and_(time >= sa.literal(bounds[0]), time < sa.literal(bounds[-1]))
    raw_names = {col: spec.rename.get(col, col) for col in ours}
    return assemble(name, spec, raw, periods, columns, kinds, derived, time, bounds, in_window,
                    _non_finite(spec, raw, ours) | controls, _written_time(raw, spec),
                    _unparsed_text_time(raw, time, in_window),
                    [raw.table.c[raw_names[c]] for c in ours])


def columns_read(name: str, spec: SourceSpec, raw: RawRelation,
                 needed: Sequence[str]) -> tuple[list[str], list[str]]:
    """The source's columns the definition reads (the time column first), and its derived
    columns in use; raises on a column (or a ``pii`` entry) the data does not have."""
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
    if spec.date_format and raw.dialect != "duckdb":
        raise SourceError(name, "date_format applies to file and DuckDB sources; a database "
                                "source's times are read with the database's own types", raw.label)
    return ours, derived


def typed_columns(spec: SourceSpec, raw: RawRelation, ours: Sequence[str], *,
                  clean_text: bool = True) -> tuple[dict[str, ColumnElement[Any]], dict[str, str],
                                                    dict[tuple[str, str], ColumnElement[Any]]]:
    """Every read column but the time as the definition types it (mapped, typed), its kind,
    and per text column the condition "control characters were removed"; ``clean_text``
    false leaves the control characters in (for whoever removes them later)."""
    dialect = raw.dialect
    columns: dict[str, ColumnElement[Any]] = {}
    kinds: dict[str, str] = {}
    controls: dict[tuple[str, str], ColumnElement[Any]] = {}
    for col in ours:
        raw_name = spec.rename.get(col, col)
        value: ColumnElement[Any] = raw.table.c[raw_name]
        if col in spec.values:
            value = mapped(value, spec.values[col])
        kind = spec.columns.get(col)
        if col == spec.time_column:
            continue
        if kind is None:
            native = raw.native.get(raw_name, "unknown")
            if col in spec.values:
                native = "unknown"
            kinds[col] = {"number": "float", "text": "str", "bool": "bool"}.get(native, "unknown")
        else:
            kinds[col] = kind
            if kind in ("int", "float"):
                value = without_placeholder(value, raw,
                                            raw_name if col not in spec.values else None)
            value = typed_value(value, kind, dialect, raw, raw_name if col not in spec.values else None)
        known_clean = raw_name in raw.printable and col not in spec.values
        if kinds[col] in ("str", "category") and clean_text and not known_clean:
            shown = printable(value, dialect)
            controls[(CONTROL, col)] = value != shown
            value = shown
        columns[col] = value
    return columns, kinds, controls


def assemble(name: str, spec: SourceSpec, raw: RawRelation, periods: Sequence[Period],
             columns: Mapping[str, ColumnElement[Any]], kinds: dict[str, str],
             derived: Sequence[str], time: ColumnElement[Any], bounds: Sequence[Any],
             in_window: ColumnElement[Any],
             non_finite: Mapping[tuple[str, str], ColumnElement[Any]],
             written: ColumnElement[Any] | None, unparsed: ColumnElement[Any] | None,
             read: Sequence[ColumnElement[Any]]) -> Canonical:
    """The canonical rows from typed ``columns`` and the ``time`` (in the window when
    ``in_window``): the period by ``bounds``, later copies of a key dropped, derived columns,
    and the statement counting what reading left out (see ``quality.counting_statement``)."""
    period = sa.case((in_window, _period_search(time, bounds, 0, len(periods))),
                     else_=sa.null())
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
    probes: dict[str, sa.Select[Any]] = {}
    if derived:
        rows = _with_derived(name, spec, rows, derived, raw.dialect, kinds, raw.label, "rows",
                             probes)
    # only the report period's data quality is told (the last period)
    last = sa.and_(time >= sa.literal(bounds[-2]), time < sa.literal(bounds[-1])) \
        if len(bounds) > 2 else None
    quality = counting_statement(spec, raw, time, period, in_window, keys, non_finite,
                                 written, unparsed, read, last)
    return Canonical(name, raw, rows, kinds, tuple(periods), in_window, quality,
                     tuple(non_finite), probes)


def _period_search(time: ColumnElement[Any], bounds: Sequence[Any], low: int,
                   high: int) -> ColumnElement[Any]:
    """The index of the period (``low`` to ``high - 1``) holding ``time``, a time known to
    be in the window, by halving: four comparisons a row for 13 periods, not up to 26."""
    if high - low == 1:
        return sa.literal(low)
    middle = (low + high) // 2
    return sa.case((time < sa.literal(bounds[middle]), _period_search(time, bounds, low, middle)),
                   else_=_period_search(time, bounds, middle, high))


def _non_finite(spec: SourceSpec, raw: RawRelation,
                ours: Sequence[str]) -> dict[tuple[str, str], ColumnElement[Any]]:
    """Per numeric column, the conditions 'holds inf or NaN' and 'holds placeholder text'
    (both read as empty): DuckDB only, since a typed database column and SQLite's number
    test never yield them."""
    from reportgen.data.quality import NON_FINITE, PLACEHOLDER

    if raw.dialect != "duckdb":
        return {}
    out: dict[tuple[str, str], ColumnElement[Any]] = {}
    for col in ours:
        if spec.columns.get(col) not in ("int", "float") or col == spec.time_column:
            continue
        raw_name = spec.rename.get(col, col)
        if spec.columns[col] == "int" and raw.native.get(raw_name) == "number" \
                and col not in spec.values:
            continue  # read as the database typed it (see column_values.typed_value)
        if raw_name in raw.finite and col not in spec.values:
            continue  # every value is known to be a finite number (a CSV's typed copy)
        value: ColumnElement[Any] = raw.table.c[raw_name]
        if col in spec.values:
            value = mapped(value, spec.values[col])
        if raw.text_typed:
            out[(PLACEHOLDER, col)] = placeholder(value)
            value = without_placeholder(value, raw)
        number = try_number(value, raw.dialect)
        out[(NON_FINITE, col)] = sa.and_(number.is_not(None), sa.not_(sa.func.isfinite(number)))
    return out


def _written_time(raw: RawRelation, spec: SourceSpec) -> ColumnElement[Any] | None:
    """The condition "the raw time cell holds text" for a time read from text (DuckDB, and
    SQLite, which keeps times as text): where no time is then found, the time was
    unreadable rather than missing."""
    name = spec.rename.get(spec.time_column, spec.time_column)
    text_times = raw.dialect == "sqlite" and raw.time_mode == "text"
    if not text_times and (raw.dialect != "duckdb" or raw.native.get(name) == "time"):
        return None
    column = raw.table.c[name]
    return sa.and_(column.is_not(None), sa.func.trim(text(column)) != "")


def _unparsed_text_time(raw: RawRelation, time: ColumnElement[Any],
                        in_window: ColumnElement[Any]) -> ColumnElement[Any] | None:
    """SQLite keeps times as text and the window compares them as text, so an empty time or
    one it cannot read ('soon', '1/9/2026') falls outside the window without being NULL:
    the condition that counts such rows (a readable-looking one inside the window, like
    '2026-09-31', is read in its month and not counted)."""
    if raw.dialect != "sqlite" or raw.time_mode != "text":
        return None
    return sa.and_(time.is_not(None), sa.func.datetime(time).is_(None), sa.not_(in_window))


def _derive_inputs(spec: SourceSpec, name: str) -> list[str]:
    from reportgen.data.derive import columns_of

    return columns_of(spec.derive[name])


def _with_derived(source: str, spec: SourceSpec, rows: sa.Subquery, derived: Sequence[str],
                  dialect: str, kinds: dict[str, str], label: str | None,
                  alias: str, probes: dict[str, sa.Select[Any]] | None = None) -> sa.Subquery:
    """``rows`` plus the derived columns, computed over its (typed, renamed) columns;
    ``probes`` receives a statement per derived column computing it alone over no rows."""
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
        if probes is not None:
            probes[column] = sa.select(value.label(column)).select_from(rows).limit(0)
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
        sa.func.regexp_matches(sa.func.trim(text(sample.c[column.name])), OFFSET))).scalar()
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
