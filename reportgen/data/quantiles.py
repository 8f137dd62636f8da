"""Exact quantiles computed where the data lives: everything a quantile estimate needs,
without its values leaving the database.

Per period and breakdown group, a quantile metric needs its value, n, the smallest and
largest value (the "all equal" case), two order statistics (its distribution-free
interval) and, for the two periods a change compares, the counts above and at or below
their pooled quantile (Mood's test).  The first four are aggregates, batched with the
source's other aggregates (``summary_request``); the order statistics are read by rank
(``order_statistics``: the ranks depend on n only, so they are known once n is); the
counts are one statement per metric (``pooled_counts``).

``percentile_cont(q) WITHIN GROUP (ORDER BY x)`` interpolates linearly between the order
statistics at (n - 1)·q, as ``numpy.quantile`` does by default; DuckDB and PostgreSQL
both have it.  Other databases (SQLite) keep reading the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from reportgen.data.aggregates import Aggregation, Cols, Measure, Request, count_if
from reportgen.data.canonical import PERIOD

if TYPE_CHECKING:
    from reportgen.data.canonical import Canonical

#: the databases whose quantiles are computed in SQL
QUANTILE_DIALECTS = frozenset({"duckdb", "postgresql"})

#: a group: (breakdown columns, period number, the breakdown's values)
Group = tuple[tuple[str, ...], int, tuple[Any, ...]]
#: the 2x2 table of Mood's test: first period above and at-or-below the pooled quantile,
#: then the second period's
MoodCounts = tuple[int, int, int, int]


@dataclass(frozen=True)
class QuantileMeasure:
    """What a quantile calculator reads: a value per row (NULL where the row has none or it
    is left out) and which quantile."""

    value: Measure
    q: float


def non_negative(column: str) -> Measure:
    """The number in ``column`` where it is one and not negative (a duration), else NULL.
    NaN is no value (databases sort it above every number; pandas drops it)."""

    def value(cols: Cols) -> ColumnElement[Any]:
        number = cols.num(column)
        return sa.case((sa.and_(number >= 0, number != sa.cast(sa.literal("NaN"), sa.Double)),
                        number), else_=sa.null())

    return value


def quantile_of(value: ColumnElement[Any], q: float) -> ColumnElement[Any]:
    """The linearly interpolated ``q`` quantile of ``value`` (NULLs left out)."""
    return sa.func.percentile_cont(sa.literal(q, sa.Double, literal_execute=True)) \
        .within_group(value)


def summary_request(prefix: str, measure: QuantileMeasure, where: Mapping[str, Any],
                    sets: tuple[tuple[str, ...], ...]) -> Request:
    """n, smallest, largest and the quantile per group: aggregates like any other."""
    return Request(prefix, Aggregation({
        "n": lambda cols: sa.func.count(measure.value(cols)),
        "min": lambda cols: sa.func.min(measure.value(cols)),
        "max": lambda cols: sa.func.max(measure.value(cols)),
        "value": lambda cols: quantile_of(measure.value(cols), measure.q),
    }), where, sets)


def _keys(sets: Iterable[tuple[str, ...]]) -> list[str]:
    return [PERIOD, *dict.fromkeys(c for s in sets for c in s)]


def _where(cols: Cols, where: Mapping[str, Any]) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for column, wanted in where.items():
        out.append(cols[column].in_(wanted if isinstance(wanted, list) else [wanted]))
    return out


def _padded(keys: Sequence[str], present: Sequence[str],
            table: sa.FromClause) -> list[ColumnElement[Any]]:
    """Every key column of ``table``, labelled k0..., NULL where the set leaves it out."""
    return [table.c[c].label(f"k{i}") if c in present else sa.null().label(f"k{i}")
            for i, c in enumerate(keys)]


def order_statistics(canonical: Canonical, measure: QuantileMeasure, where: Mapping[str, Any],
                     wanted: Mapping[tuple[str, ...], set[tuple[int, int]]]) -> Any:
    """One statement reading, per breakdown set, the order statistics of the value at the
    wanted (n, rank) pairs (1-based ranks): a row_number per group, kept where (the group's
    n, the row's rank) is wanted.  Rows: part, k0 (period), k1..., n, rank, x."""
    rows = canonical.rows
    cols = Cols(rows, canonical.kinds, canonical.dialect)
    sets = _ordered(wanted)
    keys = _keys(sets)
    value = measure.value(cols)
    parts = []
    for index, group in enumerate(sets):
        present = [PERIOD, *group]
        partition = [rows.c[c] for c in present]
        ranked = sa.select(
            *(rows.c[c].label(c) for c in present), value.label("x"),
            sa.func.row_number().over(partition_by=partition, order_by=value).label("r"),
            sa.func.count().over(partition_by=partition).label("n"),
        ).where(*_where(cols, where), value.is_not(None)).subquery(f"ranked{index}")
        pairs = sorted(wanted[group])
        parts.append(sa.select(sa.literal(index).label("part"),
                               *_padded(keys, present, ranked),
                               ranked.c.n, ranked.c.r, ranked.c.x)
                     .where(sa.tuple_(ranked.c.n, ranked.c.r).in_(pairs)))
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def _ordered(sets: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return sorted(sets, key=lambda s: (len(s), s))


def read_order_statistics(fetched: Sequence[Any], wanted: Mapping[tuple[str, ...], Any]
                          ) -> dict[Group, dict[int, float]]:
    """Per group, the value at each rank read by ``order_statistics(..., wanted)``."""
    sets = _ordered(wanted)
    keys = _keys(sets)
    out: dict[Group, dict[int, float]] = {}
    for row in fetched:
        part, *key_values, _, rank, x = row
        group = sets[int(part)]
        by_key = dict(zip(keys, key_values, strict=True))
        out.setdefault((group, int(by_key[PERIOD]), tuple(by_key[c] for c in group)),
                       {})[int(rank)] = float(x)
    return out


def pooled_counts(canonical: Canonical, measure: QuantileMeasure, where: Mapping[str, Any],
                  pairs: Sequence[tuple[tuple[str, ...], int, int]]) -> Any:
    """One statement with, per (breakdown set, period a, period b) and group, the counts of
    each period's values above and at or below the pooled quantile of both periods' values.
    Rows: part, k1... (the set's columns), a above, a below, b above, b below."""
    rows = canonical.rows
    cols = Cols(rows, canonical.kinds, canonical.dialect)
    keys = _keys(group for group, _, _ in pairs)[1:]
    value = measure.value(cols)
    parts = []
    for index, (group, a, b) in enumerate(pairs):
        both = sa.select(*(rows.c[c].label(c) for c in group), rows.c[PERIOD].label("p"),
                         value.label("x")) \
            .where(*_where(cols, where), value.is_not(None), rows.c[PERIOD].in_([a, b])) \
            .cte(f"both{index}")
        cut = sa.select(*(both.c[c] for c in group), quantile_of(both.c.x, measure.q)
                        .label("cut")).group_by(*(both.c[c] for c in group)).cte(f"cut{index}")
        joined = both.join(cut, sa.and_(sa.true(), *(both.c[c].is_not_distinct_from(cut.c[c])
                                                      for c in group)))
        x, p, line = both.c.x, both.c.p, cut.c.cut
        parts.append(sa.select(
            sa.literal(index).label("part"),
            *_padded(keys, group, both),
            count_if((p == a) & (x > line)).label("a_above"),
            count_if((p == a) & (x <= line)).label("a_below"),
            count_if((p == b) & (x > line)).label("b_above"),
            count_if((p == b) & (x <= line)).label("b_below"),
        ).select_from(joined).group_by(*(both.c[c] for c in group)))
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def read_pooled_counts(fetched: Sequence[Any], pairs: Sequence[tuple[tuple[str, ...], int, int]]
                       ) -> dict[tuple[Group, Group], MoodCounts]:
    """Per (group in period a, same group in period b), Mood's 2x2 counts read by
    ``pooled_counts(..., pairs)``."""
    keys = _keys(group for group, _, _ in pairs)[1:]
    out: dict[tuple[Group, Group], MoodCounts] = {}
    for row in fetched:
        part, *rest = row
        key_values, counts = rest[:len(keys)], rest[len(keys):]
        group, a, b = pairs[int(part)]
        by_key = dict(zip(keys, key_values, strict=True))
        key = tuple(by_key[c] for c in group)
        out[((group, a, key), (group, b, key))] = tuple(int(c or 0) for c in counts)  # type: ignore[assignment]
    return out
