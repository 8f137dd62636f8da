"""Exact quantiles computed where the data lives: everything a quantile estimate needs,
without its values leaving the database.

Per period and breakdown group, a quantile metric needs its value, n, the smallest and
largest value (the "all equal" case), two order statistics (its distribution-free
interval) and, for the two periods a change compares, the counts above and at or below
their pooled quantile (Mood's test).  n, the smallest and the largest are aggregates
(``summary_request``); the value (interpolated between two order statistics,
``value_ranks``) and the interval's order statistics are read as discrete quantiles at
fractions that select them, in one sort of each group's values (``order_request``: the
ranks depend on n only, so they are known once n is); the counts are one statement per
metric (``pooled_counts``).

``percentile_cont(q) WITHIN GROUP (ORDER BY x)`` interpolates linearly between the order
statistics at (n - 1)·q, as ``numpy.quantile`` does by default; DuckDB and PostgreSQL
both have it.  Other databases (SQLite) keep reading the rows.
"""

from __future__ import annotations

import math
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
    """n, smallest and largest per group: aggregates like any other (the quantile itself is
    read with the order statistics, ``value_ranks``, so the values are sorted once)."""
    return Request(prefix, Aggregation({
        "n": lambda cols: sa.func.count(measure.value(cols)),
        "min": lambda cols: sa.func.min(measure.value(cols)),
        "max": lambda cols: sa.func.max(measure.value(cols)),
    }), where, sets)


def value_ranks(n: int, q: float) -> tuple[int, int, float]:
    """The linearly interpolated ``q`` quantile of ``n`` values as (low rank, high rank,
    weight), ranks 1-based: the value is low + weight·(high - low), at position (n - 1)·q
    from the smallest, as ``numpy.quantile``, ``percentile_cont`` in DuckDB and PostgreSQL."""
    position = (n - 1) * q
    below = math.floor(position)
    return below + 1, min(below + 2, n), position - below


def interpolated(low: float, high: float, weight: float) -> float:
    """The value ``weight`` of the way from ``low`` to ``high`` (numpy's linear quantile:
    from the nearer end, so weight 1 gives ``high`` exactly)."""
    if weight >= 0.5:
        return high - (high - low) * (1 - weight)
    return low + (high - low) * weight


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


def rank_fraction(n: int, rank: int) -> float:
    """The fraction at which a discrete quantile of ``n`` values is the ``rank``-th smallest
    (1-based): halfway between the ranks, so rounding cannot move it to a neighbour.

    ``percentile_disc(f)`` returns the value at 1-based position ceil(f·n) (PostgreSQL;
    DuckDB's max(1, n - floor(n - f·n)) is the same), and f·n = rank - 1/2 gives rank."""
    return (rank - 0.5) / n


def order_request(prefix: str, measure: QuantileMeasure, where: Mapping[str, Any],
                  sets: tuple[tuple[str, ...], ...], fractions: Sequence[float]) -> Request:
    """Per group, the discrete quantiles of the value at every one of ``fractions`` (a
    list, in their order): each group's order statistics are among them, at the fractions
    ``rank_fraction`` gives for its n.  One list serves every group, so the statement is
    one aggregate over the grouping sets, each group's values selected, not sorted out."""
    listed: ColumnElement[Any] = sa.literal_column(
        "ARRAY[" + ", ".join(f"CAST({f!r} AS DOUBLE PRECISION)" for f in fractions) + "]")
    return Request(prefix, Aggregation({
        "order": lambda cols: sa.func.percentile_disc(listed).within_group(measure.value(cols)),
    }), where, sets)


#: a change compared: (breakdown set, period a, period b)
Pair = tuple[tuple[str, ...], int, int]


@dataclass(frozen=True)
class PooledAsk:
    """One metric's changes to test: its value, its filter, the pairs of periods compared."""

    measure: QuantileMeasure
    where: Mapping[str, Any]
    pairs: tuple[Pair, ...]


def pooled_counts(canonical: Canonical, asks: Sequence[PooledAsk]) -> Any:
    """One statement with, per metric, (breakdown set, period a, period b) and group, the
    counts of each period's values above and at or below the pooled quantile of both
    periods' values.  The compared periods' rows are read once (a materialized CTE with
    each metric's value, its filter applied).  Rows: part (the metric's pairs in order),
    k1... (the sets' columns, NULL where a set leaves one out), a above, a below, b above,
    b below."""
    rows = canonical.rows
    cols = Cols(rows, canonical.kinds, canonical.dialect)
    keys = _keys(group for ask in asks for group, _, _ in ask.pairs)[1:]
    periods = sorted({p for ask in asks for _, a, b in ask.pairs for p in (a, b)})
    values = []
    for index, ask in enumerate(asks):
        value = ask.measure.value(cols)
        conditions = _where(cols, ask.where)
        if conditions:
            value = sa.case((sa.and_(*conditions), value), else_=sa.null())
        values.append(value.label(f"x{index}"))
    picked = sa.select(*(rows.c[c].label(c) for c in keys), rows.c[PERIOD].label("p"), *values) \
        .where(rows.c[PERIOD].in_(periods)).cte("picked").prefix_with("MATERIALIZED")
    parts: list[Any] = []
    for index, ask in enumerate(asks):
        x, p = picked.c[f"x{index}"], picked.c.p
        for group, a, b in ask.pairs:
            inside = sa.and_(x.is_not(None), p.in_([a, b]))
            by = [picked.c[c] for c in group]
            cut = sa.select(*by, quantile_of(x, ask.measure.q).label("cut")).where(inside) \
                .group_by(*by).subquery(f"cut{len(parts)}")
            joined = picked.join(cut, sa.and_(sa.true(), *(picked.c[c].is_not_distinct_from(
                cut.c[c]) for c in group)))
            line = cut.c.cut
            parts.append(sa.select(
                sa.literal(len(parts)).label("part"),
                *_padded(keys, group, picked),
                count_if((p == a) & (x > line)).label("a_above"),
                count_if((p == a) & (x <= line)).label("a_below"),
                count_if((p == b) & (x > line)).label("b_above"),
                count_if((p == b) & (x <= line)).label("b_below"),
            ).select_from(joined).where(inside).group_by(*by))
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def read_pooled_counts(fetched: Sequence[Any], asks: Sequence[PooledAsk]
                       ) -> list[dict[tuple[Group, Group], MoodCounts]]:
    """Per ask, per (group in period a, same group in period b), Mood's 2x2 counts read by
    ``pooled_counts(..., asks)``."""
    keys = _keys(group for ask in asks for group, _, _ in ask.pairs)[1:]
    parts = [(i, pair) for i, ask in enumerate(asks) for pair in ask.pairs]
    out: list[dict[tuple[Group, Group], MoodCounts]] = [{} for _ in asks]
    for row in fetched:
        part, *rest = row
        key_values, counts = rest[:len(keys)], rest[len(keys):]
        ask, (group, a, b) = parts[int(part)]
        by_key = dict(zip(keys, key_values, strict=True))
        key = tuple(by_key[c] for c in group)
        out[ask][((group, a, key), (group, b, key))] = \
            (int(counts[0] or 0), int(counts[1] or 0), int(counts[2] or 0), int(counts[3] or 0))
    return out
