"""The data of one report run: each source opened once, queried where it lives, cached.

``DataStore`` is what the metric engine, the insights and the gates read from.  It opens a
source on first use (its connector, the canonical rows, the column contract), answers
aggregate requests in one statement per source and filter, and hands out rows only to the
few calculators that need them, restricted to their columns and subset.  Results are
cached per (source fingerprint, window, statement) for the life of the process, so several
reports built in one process (a fan-out, a scheduler) share them, and a change to the data
is a new key (``reportgen.data.fingerprint``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from reportgen.data.aggregates import Request, Result, compile_requests, read_result
from reportgen.data.canonical import PERIOD, TIME, Canonical, Window, build
from reportgen.data.connectors import SOURCES, Connector, RawRelation
from reportgen.data.contract import check_contract
from reportgen.data.fingerprint import files_of
from reportgen.data.fingerprint import fingerprint as data_fingerprint
from reportgen.data.quality import QualityCounts, read_counts
from reportgen.data.read_once import read_once, reads_once
from reportgen.data.relations import driver_connection, expression_problem, read_problem
from reportgen.data.resources import is_out_of_memory, out_of_memory
from reportgen.data.result_cache import cached_result
from reportgen.data.source_handle import SourceHandle, as_instants, digest_frame, probe_source
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import SourceError
from reportgen.period import Period
from reportgen.secrets import redact

if TYPE_CHECKING:
    import pandas as pd


T = TypeVar("T")
#: ``rows``'s signature: (source, columns, where, periods) -> frame
RowsReader = Callable[[str, Sequence[str], "Mapping[str, Any] | None",
                       "Sequence[Period] | None"], "pd.DataFrame"]



def check_derived(name: str, raw: RawRelation, canonical: Canonical) -> None:
    """Each derived column computed alone over no rows, so an expression its columns' types
    do not fit (text timestamps subtracted) is told as that column's, where the definition
    writes it, rather than as the failure of whichever statement first reads the source."""
    for column, probe in canonical.derived_probes.items():
        try:
            raw.connection.execute(probe).close()
        except sa.exc.SQLAlchemyError as exc:
            message = str(getattr(exc, "orig", None) or exc)
            if is_out_of_memory(exc):
                raise out_of_memory(name, raw.label) from None
            raise SourceError(name, f"derived column '{column}': "
                                    f"{redact(expression_problem(message))}",
                              raw.label, key=("derive", column)) from None

class DataStore:
    """Every source of one report for one window; close() when done (or use ``with``)."""

    def __init__(self, sources: Mapping[str, SourceSpec], needed: Mapping[str, Sequence[str]],
                 base_dir: Path, window: Window, periods: Sequence[Period],
                 fact_columns: Mapping[str, Sequence[str]] | None = None):
        self.specs = dict(sources)
        self.needed = {k: list(v) for k, v in needed.items()}
        self.base_dir = base_dir
        self.window = window
        self.periods = tuple(periods)
        #: per source, the columns whose missing and distinct values the gates count
        self.fact_columns = {k: tuple(v) for k, v in (fact_columns or {}).items()}
        self._handles: dict[str, SourceHandle] = {}
        self._facts: dict[tuple[str, tuple[str, ...]], dict[int, dict[str, Any]]] = {}
        self._quality: dict[str, QualityCounts] = {}
        #: reads ``rows`` in place of ``read_rows`` when set (see ``rows``)
        self.rows_reader: RowsReader | None = None

    def __enter__(self) -> DataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for handle in self._handles.values():
            handle.canonical.raw.close()
        self._handles.clear()

    def period_index(self, period: Period) -> int | None:
        for i, p in enumerate(self.periods):
            if p.key == period.key:
                return i
        return None

    # --- opening -------------------------------------------------------------------------
    def source(self, name: str) -> SourceHandle:
        if name not in self._handles:
            spec = self.specs[name]
            connector: Connector = SOURCES.instance(spec.kind)
            bounds = self.window.naive_in(spec.timezone)
            raw: RawRelation = connector.open(name, spec, self.base_dir, bounds)
            # a file's fingerprint before anything is read from it: a change while it is
            # read then makes a new key, never old results under the new data's key
            identity = data_fingerprint(spec, self.base_dir) \
                if files_of(spec, self.base_dir) is not None else None
            needed = self.needed.get(name, [])
            try:
                if reads_once(name, spec, raw):
                    canonical = self._run_checked(name, raw, lambda: read_once(
                        name, spec, raw, needed, self.window, self.periods))
                else:
                    # building the relation asks the data a few things too (the time
                    # column's form): its failures are the source's, told like the
                    # statements' below
                    canonical = self._run_checked(
                        name, raw, lambda: build(name, spec, raw, needed, self.window,
                                                 self.periods))
                    self._run_checked(name, raw,
                                      lambda: check_contract(canonical, spec, self.window))
                check_derived(name, canonical.raw, canonical)
            except BaseException:
                raw.close()
                raise
            if identity is None:
                identity = self._run_checked(
                    name, raw, lambda: data_fingerprint(spec, self.base_dir,
                                                        lambda: probe_source(spec, canonical)))
            handle = SourceHandle(name, spec, canonical, (identity,))
            self._handles[name] = handle
            self._quality[name] = self._count_quality(handle)
        return self._handles[name]

    def _count_quality(self, handle: SourceHandle) -> QualityCounts:
        canonical = handle.canonical
        unread = canonical.raw.unread_rows
        if canonical.quality is None:
            return QualityCounts(handle.name, handle.spec, unread=unread)
        _, rows = self._execute(handle, canonical.quality)
        return read_counts(handle.name, handle.spec, canonical.quality_columns, rows,
                           canonical.periods, unread)

    def quality(self, name: str) -> QualityCounts:
        """What reading source ``name`` dropped or read as empty, per reason and period."""
        self.source(name)
        return self._quality[name]

    def _run_checked(self, name: str, raw: RawRelation, work: Callable[[], T]) -> T:
        try:
            return work()
        except Exception as exc:
            # rows are fetched with DuckDB's own driver: its errors are not SQLAlchemy's
            if not isinstance(exc, sa.exc.SQLAlchemyError) \
                    and not type(exc).__module__.lstrip("_").startswith("duckdb"):
                raise
            if is_out_of_memory(exc):
                raise out_of_memory(name, raw.label) from None
            message = str(getattr(exc, "orig", None) or exc)
            detail = redact(read_problem(message))
            if "CSV Error" in message and raw.locate is not None:
                detail = raw.locate() or detail  # the true line, not the reader's row number
            what = "cannot read the data" if "CSV Error" in message else "query failed"
            raise SourceError(name, f"{what}: {detail}", raw.label) from None

    def _key(self, handle: SourceHandle, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return (handle.identity, self.window, tuple(p.key for p in self.periods), sql,
                tuple(sorted((k, repr(v)) for k, v in params.items())))

    def _execute(self, handle: SourceHandle, statement: Any) -> tuple[list[str], list[Any]]:
        compiled = statement.compile(handle.connection,
                                     compile_kwargs={"render_postcompile": True})
        sql = str(compiled)
        params = {**compiled.params, **handle.canonical.raw.params}
        handle.statements.append(sql)

        def run() -> tuple[list[str], list[Any]]:
            # only statements that really ran (not cache hits) are kept for a replay
            handle.replay.append((sql, [params[name] for name in compiled.positiontup or ()]))
            result = handle.connection.execute(statement)
            return list(result.keys()), [tuple(r) for r in result.fetchall()]

        names, rows = cached_result(self._key(handle, sql, params),
                              lambda: self._run_checked(handle.name, handle.canonical.raw, run))
        # a grouped statement's rows come in no set order (DuckDB aggregates in parallel):
        # the provenance hash is of the rows as a set, so a rerun on the same data matches
        handle.digest.update(repr(sorted(map(repr, rows))).encode())
        return names, rows

    # --- aggregates ----------------------------------------------------------------------
    def aggregate(self, source: str, requests: Sequence[Request]) -> Result:
        """The requests' aggregates, one statement per (filter, unit) batch."""
        handle = self.source(source)
        canonical = handle.canonical
        batches: dict[tuple[Any, ...], list[Request]] = {}
        for r in requests:
            key = (repr(sorted(r.where.items())), r.aggregation.per)
            batches.setdefault(key, []).append(r)
        merged = Result({})
        for batch in batches.values():
            statement, labels, keys = compile_requests(canonical.rows, canonical.kinds,
                                                       canonical.dialect, batch)
            names, rows = self._execute(handle, statement)
            sets = {s for r in batch for s in r.sets}
            result = read_result(rows, names, labels, keys, sets)
            for k, v in result.rows.items():
                merged.rows.setdefault(k, {}).update(v)
        return merged

    def dialect(self, source: str) -> str:
        """The SQL dialect the source's statements run in (opens the source)."""
        return self.source(source).canonical.dialect

    def query(self, source: str, build: Callable[[Canonical], Any]) -> tuple[list[str], list[Any]]:
        """The result of the statement ``build`` makes from the source's rows (a small one:
        it is cached like the aggregates)."""
        handle = self.source(source)
        return self._execute(handle, build(handle.canonical))

    # --- rows ----------------------------------------------------------------------------
    def rows(self, source: str, columns: Sequence[str], where: Mapping[str, Any] | None = None,
             periods: Sequence[Period] | None = None) -> pd.DataFrame:
        """The window's rows of ``columns`` (and the period key in ``__period__``); through
        ``rows_reader`` when one is set (a fan-out reads each request once for every
        report it makes)."""
        if self.rows_reader is not None:
            return self.rows_reader(source, columns, where, periods)
        return self.read_rows(source, columns, where, periods)

    def read_rows(self, source: str, columns: Sequence[str],
                  where: Mapping[str, Any] | None = None,
                  periods: Sequence[Period] | None = None) -> pd.DataFrame:
        """The window's rows of ``columns``, read from the source now."""
        import pandas as pd

        handle = self.source(source)
        canonical = handle.canonical
        rows = canonical.rows
        wanted = list(dict.fromkeys(c for c in columns if c != PERIOD))
        select = sa.select(*(rows.c[c] for c in wanted), rows.c[PERIOD])
        for column, value in (where or {}).items():
            values = value if isinstance(value, list) else [value]
            select = select.where(rows.c[column].in_(values))
        if periods is not None:
            indexes = [i for i, p in enumerate(self.periods) if p.key in {q.key for q in periods}]
            select = select.where(rows.c[PERIOD].in_(indexes))
        # in period order: each period is then a slice of the frame, not a copy of it
        frame = self._frame(handle, select, order_by=PERIOD)
        # Period keys as a categorical: a byte per row instead of a string (10M rows: 10 MB).
        codes = pd.to_numeric(frame[PERIOD], errors="coerce").fillna(-1).astype("int16")
        frame[PERIOD] = pd.Categorical.from_codes(codes,
                                                  categories=pd.Index([p.key for p in self.periods]))
        for column in wanted:
            kind = canonical.kinds.get(column)
            if column == handle.spec.time_column or column == TIME:
                frame[column] = as_instants(frame[column], handle, self.periods)
            elif kind in ("int",):
                # pandas-stubs leave out a Series as the data of an "Int64" array
                frame[column] = pd.array(frame[column], dtype="Int64")  # type: ignore[call-overload]
            elif kind == "float" and frame[column].dtype != "float64":
                frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
            elif kind == "category":
                frame[column] = frame[column].astype("string").astype("category")
            elif kind == "bool":
                frame[column] = frame[column].astype("boolean")
        return frame

    def _frame(self, handle: SourceHandle, statement: Any, order_by: str) -> pd.DataFrame:
        """Rows as a DataFrame in ``order_by`` order (a column of small integers), fetched
        with the driver's own bulk path where it has one (DuckDB hands over columns, read in
        chunks and put in order here; row-by-row result processing is the slow part)."""
        import pandas as pd

        from reportgen.data.fetch import frame_in_period_order

        conn = handle.connection
        if conn.dialect.name != "duckdb":
            statement = statement.order_by(statement.selected_columns[order_by])
        if not conn.dialect.positional:
            names, fetched = self._execute(handle, statement)
            return pd.DataFrame.from_records(fetched, columns=names)
        compiled = statement.compile(conn, compile_kwargs={"render_postcompile": True})
        sql = str(compiled)
        params = {**compiled.params, **handle.canonical.raw.params}
        positional = [params[name] for name in compiled.positiontup or ()]
        handle.statements.append(sql)

        def run() -> pd.DataFrame:
            handle.replay.append((sql, positional))
            driver = driver_connection(conn)
            if conn.dialect.name == "duckdb":
                return frame_in_period_order(driver, sql, positional, order_by)
            cursor = driver.cursor()
            try:
                cursor.execute(sql, positional)
                names = [d[0] for d in cursor.description]
                return pd.DataFrame.from_records(cursor.fetchall(), columns=names)
            finally:
                cursor.close()

        # Rows are not cached: a report asks for them once, and they can be large.
        frame = self._run_checked(handle.name, handle.canonical.raw, run)
        digest_frame(handle.digest, frame)
        return frame

    # --- facts for gates and provenance ---------------------------------------------------
    def facts(self, source: str) -> dict[int, dict[str, Any]]:
        """Per period: rows, the newest time, and for each fact column its values and
        distinct values; one statement answers every gate and the row counts."""
        key = (source, self.fact_columns.get(source, ()))
        if key in self._facts:
            return self._facts[key]
        handle = self.source(source)
        rows = handle.canonical.rows
        measures = [sa.func.count().label("rows"), sa.func.max(rows.c[TIME]).label("newest")]
        for i, column in enumerate(self.fact_columns.get(source, ())):
            measures += [sa.func.count(rows.c[column]).label(f"v{i}"),
                         sa.func.count(sa.distinct(rows.c[column])).label(f"d{i}")]
        names, fetched = self._execute(handle, sa.select(rows.c[PERIOD], *measures)
                                       .group_by(rows.c[PERIOD]))
        self._facts[key] = {int(r[0]): dict(zip(names[1:], r[1:], strict=True))
                            for r in fetched if r[0] is not None}
        return self._facts[key]

    def _fact(self, source: str, period: Period, name: str) -> Any:
        index = self.period_index(period)
        return self.facts(source).get(index if index is not None else -1, {}).get(name)

    def count(self, source: str, period: Period) -> int:
        return int(self._fact(source, period, "rows") or 0)

    def _column_fact(self, source: str, column: str, period: Period, kind: str) -> int:
        columns = list(self.fact_columns.get(source, ()))
        if column not in columns:
            self.fact_columns[source] = (*columns, column)  # asked late: one more statement
            columns.append(column)
        return int(self._fact(source, period, f"{kind}{columns.index(column)}") or 0)

    def null_count(self, source: str, column: str, period: Period) -> tuple[int, int]:
        """(rows, rows with ``column`` missing) in ``period``."""
        total = self.count(source, period)
        return total, total - self._column_fact(source, column, period, "v")

    def duplicate_count(self, source: str, column: str, period: Period) -> tuple[int, int]:
        """(rows with a value, rows repeating a value seen before) in ``period``."""
        values = self._column_fact(source, column, period, "v")
        return values, values - self._column_fact(source, column, period, "d")

    def newest(self, source: str) -> Any:
        """The newest time in the window (an aware datetime), or None."""
        import pandas as pd

        times = [f["newest"] for f in self.facts(source).values() if f["newest"] is not None]
        if not times:
            return None
        handle = self.source(source)
        return as_instants(pd.Series([max(times)]), handle, self.periods).iloc[0]

    def data_fingerprints(self) -> dict[str, str]:
        """Per source opened, the fingerprint of its data when it was opened."""
        return {name: str(h.identity[0]) for name, h in self._handles.items()}

    def fingerprint(self, source: str) -> str:
        """sha256 of every result this report read from ``source`` (its provenance)."""
        handle = self._handles.get(source)
        return handle.digest.hexdigest() if handle else hashlib.sha256(b"").hexdigest()

    def statements(self) -> dict[str, list[str]]:
        return {name: list(h.statements) for name, h in self._handles.items()}

    def replays(self) -> list[dict[str, Any]]:
        """What each source ran, to replay with the plain driver (the benchmark's floor)."""
        return [{"source": name, "dialect": h.canonical.raw.dialect,
                 "database": h.canonical.raw.database, "setup": list(h.canonical.raw.setup),
                 "read": h.canonical.raw.reading,
                 "queries": list(h.replay)} for name, h in self._handles.items()]
