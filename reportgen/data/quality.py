"""Data-quality counts: what a source's canonical rows leave out, per reason, in the report
period.

Reading a source drops rows (no time at all, a later copy of a declared key) and reads some
values as empty (inf or NaN in a numeric column).  Nothing is dropped silently: one extra
statement, run where the data lives beside the column contract's check, counts each reason
in the report period (the last of the window's periods), and the report's data-quality
note, its run record and the ``dropped_share`` gate read those counts.  The earlier periods
of the window are not counted: nothing states them, and at 100M rows counting copies over
thirteen months is most of a run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

if TYPE_CHECKING:
    from reportgen.data.connectors import RawRelation
    from reportgen.definition.content_specs import SourceSpec
    from reportgen.period import Period
    from reportgen.report.model.metric_results import MetricResult

#: reason keys -> whether the row is dropped (True) or only a value read as empty (False)
NO_TIME = "no_time"
UNREADABLE_TIME = "unreadable_time"
INCOMPLETE_ROW = "incomplete_row"
DUPLICATE = "duplicate"
NON_FINITE = "non_finite"
#: text standing for "no value" (NaN, null, N/A, -) in a number column: read as blank
PLACEHOLDER = "placeholder"
#: a row identical in every column to an earlier one, in a source without ``dedupe_on``
IDENTICAL = "identical"
#: control characters (escape, bell, ...) removed from a text value
CONTROL = "control_characters"


@dataclass(frozen=True)
class Reason:
    key: str
    dropped: bool
    column: str | None = None

    def describe(self, n: int, spec: SourceSpec) -> str:
        """The reason in words a reader of the report follows, with its count."""
        from reportgen.text import plural

        time = spec.time_column
        if self.key == NO_TIME:
            return f"{plural(n, 'row')} without a '{time}' time dropped"
        if self.key == UNREADABLE_TIME:
            return f"{plural(n, 'row')} with an unreadable '{time}' time dropped"
        if self.key == INCOMPLETE_ROW:
            return f"{plural(n, 'incomplete last row')} dropped (the file was cut off mid-row)"
        if self.key == DUPLICATE:
            keys = " and ".join(spec.dedupe_on)
            return (f"{plural(n, 'duplicate row')} dropped (the same {keys} as an earlier "
                    "row, which is kept)")
        if self.key == PLACEHOLDER:
            return (f"{plural(n, repr(self.column) + ' value')} written as a placeholder "
                    "(NaN, null, N/A, -) read as blank")
        if self.key == CONTROL:
            return (f"{plural(n, repr(self.column) + ' value')} with control characters "
                    "(invisible, such as escape or bell), which were removed")
        if self.key == IDENTICAL:
            return (f"{plural(n, 'row')} identical to an earlier row in every column read, "
                    "kept; set `dedupe_on` to drop copies")
        return (f"{plural(n, 'invalid ' + repr(self.column) + ' value')} (infinite or not a "
                "number) read as blank")


@dataclass(frozen=True)
class QualityCounts:
    """One source's counts: per period key, reason -> count; rows without a time, or with
    one that cannot be read, have no period and are kept apart (``undated``, ``unreadable``).
    ``counted``: the period counted (the report period; None: none was, the source has
    nothing to count), the only one whose counts can be asked for."""

    source: str
    spec: SourceSpec
    by_period: Mapping[str, Mapping[Reason, int]] = field(default_factory=dict)
    undated: int = 0
    unreadable: int = 0
    #: rows the reader could not read at all: a file's incomplete last row
    unread: int = 0
    counted: str | None = None

    def for_period(self, key: str) -> dict[Reason, int]:
        """The counts of one period (rows without a readable time are counted in every
        period's note: which period they belonged to cannot be known)."""
        if self.counted is not None and key != self.counted:
            raise ValueError(f"source '{self.source}': data quality was counted for "
                             f"{self.counted}, not {key}")
        counts = dict(self.by_period.get(key, {}))
        counts[Reason(NO_TIME, True)] = self.undated
        counts[Reason(UNREADABLE_TIME, True)] = self.unreadable
        counts[Reason(INCOMPLETE_ROW, True)] = self.unread
        return {reason: n for reason, n in counts.items() if n}

    def dropped(self, key: str) -> int:
        return sum(n for reason, n in self.for_period(key).items() if reason.dropped)

    def damaged(self, key: str) -> int:
        """Rows dropped, plus values read as blank and rows repeated (each counted once)."""
        return sum(self.for_period(key).values())

    def notes(self, key: str) -> list[str]:
        """One sentence per reason for period ``key``, in the current locale."""
        return [f"Source '{self.source}': {reason.describe(n, self.spec)}."
                for reason, n in sorted(self.for_period(key).items(),
                                        key=lambda item: (item[0].key, item[0].column or ""))]

    def as_record(self, key: str) -> dict[str, int]:
        """The counts of period ``key`` for the run record ('non_finite:csat' -> 3)."""
        return {reason.key + (f":{reason.column}" if reason.column else ""): n
                for reason, n in self.for_period(key).items()}


def counting_statement(spec: SourceSpec, raw: RawRelation, time: ColumnElement[Any],
                       period: ColumnElement[Any], in_window: ColumnElement[Any],
                       keys: Sequence[ColumnElement[Any]],
                       non_finite: Mapping[tuple[str, str], ColumnElement[Any]],
                       written: ColumnElement[Any] | None = None,
                       unparsed: ColumnElement[Any] | None = None,
                       read: Sequence[ColumnElement[Any]] = (),
                       counted: ColumnElement[Any] | None = None) -> sa.Select[Any]:
    """SELECT period, -, -, non-finite per column, duplicates ... GROUP BY period, and one
    more row (period NULL) with the rows without a time and those whose time is unreadable.

    ``counted``: the condition "in the report period" (None: every period of the window);
    a later copy of a declared key is still found against the whole window's rows.

    ``written``: the condition "the raw time holds something" (text a parse can fail on);
    None when the column is typed, so a missing time is an empty one.  ``unparsed``: the
    condition "the time is not NULL but no time can be read from it, and the window skipped
    it", for a database that compares times as text (SQLite), where such a time (or an
    empty one) is not NULL.  ``read``: the raw columns the report reads, whose identical
    copies are counted when no keys are declared.
    """
    zero = sa.cast(sa.null(), sa.Integer)
    parts: list[ColumnElement[Any]] = [period.label("period")]
    for i, condition in enumerate(non_finite.values()):
        parts.append(sa.case((condition, 1), else_=0).label(f"nf{i}"))
    # without declared keys, a row equal to another in every column read is counted, not
    # dropped (the columns the report does not read, personal ones among them, stay unread)
    same = list(keys) or list(read)
    hashed = not keys and bool(read) and raw.dialect == "duckdb"
    counted = in_window if counted is None else sa.and_(in_window, counted)
    if same and not hashed:
        parts.append(sa.func.row_number().over(partition_by=same, order_by=time)
                     .label("copy"))
        # copies of a key are numbered over the whole window, then counted in the period
        parts.append(sa.case((counted, 1), else_=0).label("counted"))
        rows = sa.select(*parts).select_from(raw.table).where(in_window).subquery("quality")
        rows_counted: ColumnElement[Any] = rows.c["counted"] == 1
    else:  # identical rows share their time, so their period
        rows = sa.select(*parts).select_from(raw.table).where(counted).subquery("quality")
        rows_counted = sa.true()
    counts: list[ColumnElement[Any]] = [rows.c["period"], zero.label("undated"),
                                        zero.label("unreadable")]
    counts += [sa.func.sum(rows.c[f"nf{i}"]).label(f"nf{i}") for i in range(len(non_finite))]
    if same and not hashed:
        counts.append(sa.func.sum(sa.case((rows.c["copy"] > 1, 1), else_=0)).label("dup"))
    by_period: sa.Select[Any] = sa.select(*counts).where(rows_counted) \
        .group_by(rows.c["period"])
    if hashed:
        by_period = _with_identical(by_period.subquery("counted"), raw, period, counted, read)
    unread = sa.false() if written is None else written
    undated = sa.select(
        zero.label("period"),
        sa.func.coalesce(sa.func.sum(sa.case((unread, 0), else_=1)), 0).label("undated"),
        sa.func.coalesce(sa.func.sum(sa.case((unread, 1), else_=0)), 0).label("unreadable"),
        *(zero.label(c.name) for c in counts[3:]), *([zero.label("dup")] if hashed else []),
    ).select_from(raw.table).where(time.is_(None) if unparsed is None
                                   else sa.or_(time.is_(None), unparsed))
    return sa.union_all(by_period, undated)  # type: ignore[return-value]


def _with_identical(counted: sa.Subquery, raw: RawRelation, period: ColumnElement[Any],
                    in_window: ColumnElement[Any],
                    read: Sequence[ColumnElement[Any]]) -> sa.Select[Any]:
    """``counted`` with one more column, ``dup``: per period, the rows identical in every
    column of ``read`` to an earlier one (DuckDB).

    Numbering the rows of each set of equal values sorts every row by every column read;
    hashing them first leaves only the rows whose hash is shared to be compared, value by
    value, so the count stays exact (two different rows with one hash are not copies).
    The time is among the columns read, so copies fall in one period.
    """
    digest = sa.func.hash(*read)
    shared = sa.select(digest).select_from(raw.table).where(in_window) \
        .group_by(digest).having(sa.func.count() > 1)
    groups = sa.select(period.label("period"), (sa.func.count() - 1).label("extra")) \
        .select_from(raw.table).where(in_window, digest.in_(shared)) \
        .group_by(period, *read).subquery("copies")
    copies = sa.select(groups.c["period"], sa.func.sum(groups.c["extra"]).label("dup")) \
        .group_by(groups.c["period"]).subquery("identical")
    return sa.select(*counted.c, sa.func.coalesce(copies.c["dup"], 0).label("dup")) \
        .select_from(counted.outerjoin(copies, counted.c["period"] == copies.c["period"]))


def read_counts(name: str, spec: SourceSpec, columns: Sequence[tuple[str, str]],
                rows: Sequence[Any], periods: Sequence[Period], unread: int = 0) -> QualityCounts:
    """The counting statement's result rows as a ``QualityCounts`` of the report period
    (the last of ``periods``)."""
    by_period: dict[str, dict[Reason, int]] = {}
    undated = unreadable = 0
    for row in rows:
        if row[0] is None:  # the rows without a (readable) time
            undated, unreadable = int(row[1] or 0), int(row[2] or 0)
            continue
        counts: dict[Reason, int] = {}
        for i, (reason, column) in enumerate(columns):
            counts[Reason(reason, False, column)] = int(row[3 + i] or 0)
        if len(row) > 3 + len(columns):
            copies = Reason(DUPLICATE, True) if spec.dedupe_on else Reason(IDENTICAL, False)
            counts[copies] = int(row[3 + len(columns)] or 0)
        by_period[periods[int(row[0])].key] = counts
    return QualityCounts(name, spec, by_period, undated, unreadable, unread,
                         periods[-1].key if periods else None)


def metric_notes(metrics: Mapping[str, MetricResult]) -> list[str]:
    """One sentence per metric and reason for the values its calculator left out in the
    report period ("Metric 'CSAT': 12 ratings outside 1 to 5 left out."), in metric order."""
    from reportgen import text

    return [f"Metric '{result.label}': {text.plural(item.count, item.noun)} {item.qualifier} "
            f"left out."
            for result in metrics.values() for item in result.left_out]


def empty_metric_notes(sources: Mapping[str, str], metrics: Mapping[str, MetricResult],
                       row_counts: Mapping[str, int]) -> list[str]:
    """One sentence per metric with no value to count (n = 0) in a period whose source has
    rows: every value empty or left out, so the metric shows nothing though data came in.

    ``sources``: metric id -> its source; ``row_counts``: source -> rows in the period.
    """
    from reportgen import text

    notes = []
    for metric_id, source in sources.items():
        result, rows = metrics.get(metric_id), row_counts.get(source, 0)
        if result is not None and result.n == 0 and rows:
            notes.append(f"Metric '{result.label}': n = 0, no value to count in the "
                         f"{text.plural(rows, 'row')} of source '{source}'.")
    return notes
