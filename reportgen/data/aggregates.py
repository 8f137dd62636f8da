"""Aggregates a calculator declares, compiled to SQL and run where the data lives.

A calculator says which sufficient statistics it needs from a group of rows (counts,
sums, means, variances, counts by value), optionally after reducing the rows to one per
unit (a review's score from its category rows).  The data layer groups them by period
and by every breakdown the definition asks for in one statement per source and filter:
``GROUPING SETS`` where the database has them (DuckDB, PostgreSQL and the warehouses),
``UNION ALL`` elsewhere (SQLite).  Only these small results leave the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from reportgen.data.canonical import PERIOD
from reportgen.data.column_values import flag_of_text, text, try_number

GROUPING_SETS_DIALECTS = frozenset({"duckdb", "postgresql", "snowflake", "bigquery", "redshift",
                                    "mssql", "oracle", "trino", "databricks"})


class Cols:
    """The columns a measure reads, typed the way calculators expect.

    ``kinds`` gives each column's contract type (``unknown`` when undeclared); a number
    read from text becomes NULL when it is not one, as pandas' ``to_numeric`` coerces.
    """

    def __init__(self, table: sa.FromClause, kinds: Mapping[str, str], dialect: str):
        self.table = table
        self.kinds = kinds
        self.dialect = dialect

    def __getitem__(self, name: str) -> ColumnElement[Any]:
        return self.table.c[name]

    def num(self, name: str) -> ColumnElement[Any]:
        column = self.table.c[name]
        if self.kinds.get(name) in ("int", "float"):
            return sa.cast(column, sa.Double)
        if self.kinds.get(name) == "bool":
            return sa.case((column.is_(None), sa.null()), (column, 1.0), else_=0.0)
        return try_number(column, self.dialect)

    def flag(self, name: str) -> ColumnElement[Any]:
        """1, 0 or NULL: numbers read 1 and 0 (any other number, a 2, is no flag: NULL, and
        counted by ``metrics.base.not_a_flag``); text reads 1/0, true/false, yes/no."""
        column = self.table.c[name]
        kind = self.kinds.get(name)
        if kind in ("int", "float"):
            return sa.case((column == 1, 1), (column == 0, 0), else_=sa.null())
        if kind == "bool":
            return sa.case((column.is_(None), sa.null()), (column, 1), else_=0)
        return flag_of_text(column)

    def text(self, name: str) -> ColumnElement[Any]:
        return text(self.table.c[name])

    def trimmed(self, name: str) -> ColumnElement[Any]:
        return sa.func.trim(text(self.table.c[name]))

    def lower_in(self, name: str, values: Iterable[str]) -> ColumnElement[Any]:
        """The column's text, trimmed and lower-cased, is one of ``values`` (any case)."""
        wanted = sorted({v.strip().lower() for v in values})
        return sa.func.lower(self.trimmed(name)).in_(wanted)


#: builds one aggregate expression from the columns of a group
Measure = Callable[[Cols], ColumnElement[Any]]
if TYPE_CHECKING:
    #: one SELECT, or several joined by UNION ALL
    Statement = sa.Select[*tuple[Any, ...]] | sa.CompoundSelect[*tuple[Any, ...]]


def count_if(condition: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def count_of(value: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.func.count(value)


def sum_if(condition: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, value), else_=sa.null()))


def mean_stats(value: ColumnElement[Any]) -> dict[str, ColumnElement[Any]]:
    """n, mean and sample variance of ``value`` (NULLs left out)."""
    return {"n": sa.func.count(value), "mean": sa.func.avg(value),
            "var": sa.func.var_samp(value)}


@dataclass(frozen=True)
class Aggregation:
    """What a calculator needs from a group of rows, as SQL aggregates.

    With ``per`` set, the rows are first reduced to one row per value of that column (a
    review), by ``per_measures``; ``measures`` then aggregate those unit rows, whose columns
    are the per-measure names (floats).
    """

    measures: Mapping[str, Measure]
    per: str | None = None
    per_measures: Mapping[str, Measure] = field(default_factory=dict)

    def columns(self) -> tuple[str, ...]:
        return (self.per,) if self.per else ()


def mean_aggregation(value: Measure) -> Aggregation:
    """n, mean and sample variance of a per-row value (NULL where a row has none)."""
    return Aggregation({
        "n": lambda cols: sa.func.count(value(cols)),
        "mean": lambda cols: sa.func.avg(value(cols)),
        "var": lambda cols: sa.func.var_samp(value(cols)),
    })


@dataclass(frozen=True)
class Request:
    """One metric's aggregation, under a prefix, over the rows matching ``where``."""

    prefix: str
    aggregation: Aggregation
    where: Mapping[str, Any]
    sets: tuple[tuple[str, ...], ...]  # breakdown column sets; () is the whole period


@dataclass
class Result:
    """Aggregates of several requests: one row per (grouping set, period, segment)."""

    rows: dict[tuple[tuple[str, ...], int, tuple[Any, ...]], dict[str, Any]]

    def get(self, prefix: str, columns: tuple[str, ...], period: int,
            key: tuple[Any, ...] = ()) -> dict[str, Any]:
        row = self.rows.get((columns, period, key), {})
        start = prefix + "."
        return {k[len(start):]: v for k, v in row.items() if k.startswith(start)}

    def segments(self, columns: tuple[str, ...], period: int) -> list[tuple[Any, ...]]:
        return [key for (cols, p, key) in self.rows if cols == columns and p == period]


def _where(cols: Cols, conditions: Mapping[str, Any]) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for column, wanted in conditions.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        out.append(cols[column].in_(values))
    return out


def compile_requests(rows: sa.FromClause, kinds: Mapping[str, str], dialect: str,
                     requests: Sequence[Request]) -> tuple[Statement, dict[str, str], list[str]]:
    """One statement computing every request (all share ``where`` and ``per``).

    Returns the statement, the measure labels (label -> prefix.name) and the key columns
    in label order (k0 = period, k1... = breakdown columns).
    """
    first = requests[0]
    per = first.aggregation.per
    sets = sorted({s for r in requests for s in r.sets}, key=lambda s: (len(s), s))
    keys = [PERIOD, *dict.fromkeys(c for s in sets for c in s)]
    cols = Cols(rows, kinds, dialect)
    where = _where(cols, first.where)
    labels: dict[str, str] = {}
    if per is None:
        measures = []
        for r in requests:
            for name, build in r.aggregation.measures.items():
                label = f"m{len(labels)}"
                labels[label] = f"{r.prefix}.{name}"
                measures.append(build(cols).label(label))
        statement: Statement = _grouped(rows, keys, sets, measures, where, dialect)
        return statement, labels, keys
    # two levels: per unit, then over the units of each group (a UNION ALL of the sets)
    parts = []
    unit_labels: dict[str, str] = {}
    for r in requests:
        for name in r.aggregation.per_measures:
            unit_labels[f"{r.prefix}.{name}"] = f"u{len(unit_labels)}"
    unit_where = [*where, rows.c[per].is_not(None)]
    for group in sets:
        present = [PERIOD, *group]
        unit = sa.select(
            *(rows.c[c].label(f"k{keys.index(c)}") for c in present),
            *(build(cols).label(unit_labels[f"{r.prefix}.{name}"])
              for r in requests for name, build in r.aggregation.per_measures.items()),
        ).where(*unit_where).group_by(*(rows.c[c] for c in present), rows.c[per]).subquery("units")
        unit_kinds = {label: "float" for label in unit_labels.values()}
        measures = []
        labels.clear()
        for r in requests:
            renamed = _Renamed(unit, unit_kinds, dialect,
                               {name: unit_labels[f"{r.prefix}.{name}"]
                                for name in r.aggregation.per_measures})
            for name, build in r.aggregation.measures.items():
                label = f"m{len(labels)}"
                labels[label] = f"{r.prefix}.{name}"
                measures.append(build(renamed).label(label))
        key_columns = [unit.c[f"k{keys.index(c)}"] if c in present else
                       sa.null().label(f"k{keys.index(c)}") for c in keys]
        parts.append(sa.select(*key_columns, sa.literal(_mask(keys, group)).label("g"),
                               *measures).group_by(*(unit.c[f"k{keys.index(c)}"] for c in present)))
    statement = parts[0] if len(parts) == 1 else sa.union_all(*parts)
    return statement, labels, keys


class _Renamed(Cols):
    """Unit rows, read under the per-measure names the calculator gave them."""

    def __init__(self, table: sa.FromClause, kinds: Mapping[str, str], dialect: str,
                 names: Mapping[str, str]):
        super().__init__(table, kinds, dialect)
        self.names = names

    def __getitem__(self, name: str) -> ColumnElement[Any]:
        return self.table.c[self.names[name]]

    def num(self, name: str) -> ColumnElement[Any]:
        return sa.cast(self[name], sa.Double)


def _mask(keys: Sequence[str], group: tuple[str, ...]) -> int:
    """GROUPING()'s bit mask for a set: a bit for every key column the set leaves out."""
    present = {PERIOD, *group}
    mask = 0
    for key in keys:
        mask = (mask << 1) | (0 if key in present else 1)
    return mask


def _grouped(rows: sa.FromClause, keys: Sequence[str], sets: Sequence[tuple[str, ...]],
             measures: Sequence[ColumnElement[Any]], where: Sequence[ColumnElement[Any]],
             dialect: str) -> sa.Select[*tuple[Any, ...]]:
    key_columns = [rows.c[c] for c in keys]
    if dialect in GROUPING_SETS_DIALECTS and len(sets) > 1:
        grouping = sa.func.grouping(*key_columns).label("g")
        sets_sql = sa.func.grouping_sets(*(sa.tuple_(*(rows.c[c] for c in (PERIOD, *s)))
                                           for s in sets))
        return sa.select(*(c.label(f"k{i}") for i, c in enumerate(key_columns)), grouping,
                         *measures).where(*where).group_by(sets_sql)
    parts = []
    for group in sets:
        present = [PERIOD, *group]
        columns = [rows.c[c].label(f"k{i}") if c in present else sa.null().label(f"k{i}")
                   for i, c in enumerate(keys)]
        parts.append(sa.select(*columns, sa.literal(_mask(keys, group)).label("g"), *measures)
                     .where(*where).group_by(*(rows.c[c] for c in present)))
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)  # type: ignore[return-value]


def read_result(fetched: Sequence[Any], names: Sequence[str], labels: Mapping[str, str],
                keys: Sequence[str], sets: Iterable[tuple[str, ...]]) -> Result:
    """Index the fetched rows by (set, period, segment key)."""
    by_mask = {_mask(keys, s): s for s in sets}
    position = {name: i for i, name in enumerate(names)}
    out: dict[tuple[tuple[str, ...], int, tuple[Any, ...]], dict[str, Any]] = {}
    for row in fetched:
        group = by_mask.get(int(row[position["g"]]))
        period = row[position["k0"]]
        if group is None or period is None:
            continue
        key = tuple(row[position[f"k{keys.index(c)}"]] for c in group)
        values = {labels[label]: row[position[label]] for label in labels}
        out.setdefault((group, int(period), key), {}).update(values)
    return Result(out)
