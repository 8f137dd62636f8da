"""A SQLite source read once into DuckDB gives what the statements pushed down to SQLite give.

The same SQLite file, with NULLs, numbers written as text, unreadable and impossible dates
and rows on both sides of the month edges, is opened twice: ``aggregate_in: database``
(every statement runs in SQLite) and by default (its window read once into DuckDB).  Every
aggregate, data-quality count, fact and row must agree; SQLite must be read by one
statement; a change to the file must change the result; bad data gives the same located
error.  Each test runs with the window read by the ADBC SQLite driver and by Python's
sqlite3 (the fallback).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from adbc_driver_manager import dbapi as adbc_dbapi

from reportgen.data import DataStore, Window, read_once
from reportgen.data.aggregates import Aggregation, Request, count_if, mean_stats
from reportgen.data.result_cache import clear_cache
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import SourceError
from reportgen.period import Period

#: months of UTC; the source's times are Berlin's, so a month starts at 02:00 of its 1st
PERIODS = [Period.parse(k, "month", "UTC") for k in ("2026-08", "2026-09", "2026-10")]
WINDOW = Window(PERIODS[0].start_at, PERIODS[-1].end_at)

ROWS: list[tuple[Any, ...]] = [
    # responded_at, rating (any storage class), score, queue, flag, ticket, email
    ("2026-08-01 01:59:59", 5, 1.5, "Billing", 1, "T1", "a@example.com"),  # July: outside
    ("2026-08-01 02:00:00", 4, 2.0, "Billing", 0, "T2", "b@example.com"),
    ("2026-08-31 23:59:59", "3", "2.5", "Payments", 1, "T3", "c@example.com"),
    ("2026-09-01 01:59:59", " 2 ", None, "Payments", None, "T4", "d@example.com"),  # August
    ("2026-09-01 02:00:00", "5.0", 4.25, "Billing\x1b", 1, "T5", "e@example.com"),
    ("2026-09-15 12:00:00", None, 3.0, None, 0, "T6", "f@example.com"),
    ("2026-09-15 12:00:00", None, 3.0, None, 0, "T6", "f@example.com"),  # an identical copy
    ("2026-09-31 10:00:00", 1, 0.5, "Billing", 1, "T7", "g@example.com"),  # read in September
    ("2026-09-30 23:59:59", "", 1.0, "Payments", 1, "T8", "h@example.com"),  # blank rating
    ("2026-10-01 02:00:00", 4.0, 9.75, "Payments", 0, "T9", "i@example.com"),
    ("2026-10-31 23:59:59", 2, -1.0, "Billing", 1, "T10", "j@example.com"),
    ("2026-11-01 00:59:59", 3, 2.0, "Billing", 1, "T11", "k@example.com"),  # October
    ("2026-11-01 01:00:00", 3, 2.0, "Billing", 1, "T12", "l@example.com"),  # November
    ("soon", 5, 5.0, "Billing", 1, "T13", "m@example.com"),  # unreadable time
    ("", 5, 5.0, "Billing", 1, "T14", "n@example.com"),  # empty time
    (None, 5, 5.0, "Billing", 1, "T15", "o@example.com"),  # no time
]


def write_db(path: Path, rows: list[tuple[Any, ...]] = ROWS) -> None:
    with sqlite3.connect(path) as db:
        # rating has no declared type, so SQLite keeps each value's own storage class
        db.execute("CREATE TABLE responses (responded_at TEXT, rating, score REAL, queue TEXT, "
                   "flag INTEGER, ticket TEXT, email TEXT)")
        db.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


def source(aggregate_in: str | None = None, pii: tuple[str, ...] = ("email",)) -> SourceSpec:
    return SourceSpec(kind="sql", url="sqlite:///data.sqlite", table="responses",
                      time_column="responded_at", timezone="Europe/Berlin",
                      columns={"rating": "int", "score": "float", "queue": "str",
                               "flag": "int", "ticket": "str"},
                      pii=list(pii), aggregate_in=aggregate_in)


def open_store(folder: Path, spec: SourceSpec, periods: list[Period] = PERIODS) -> DataStore:
    """The store of a report for the last of ``periods``."""
    return DataStore({"responses": spec}, {"responses": ["rating", "score", "queue", "flag",
                                                         "ticket"]},
                     folder, Window(periods[0].start_at, periods[-1].end_at), periods,
                     fact_columns={"responses": ("ticket", "rating")})


AGGREGATION = Aggregation({
    "rows": lambda c: sa.func.count(),
    "rated": lambda c: sa.func.count(c.num("rating")),
    "rating_sum": lambda c: sa.func.sum(c.num("rating")),
    **{f"score_{k}": (lambda c, k=k: mean_stats(c.num("score"))[k]) for k in ("n", "mean", "var")},
    "flagged": lambda c: count_if(c.flag("flag") == 1),
    "billing": lambda c: count_if(c.lower_in("queue", ["billing"])),
})
PER_TICKET = Aggregation({"tickets": lambda c: sa.func.count(), "best": lambda c: sa.func.max(
    c.num("top"))}, per="ticket", per_measures={"top": lambda c: sa.func.max(c.num("rating"))})


def everything(folder: Path, spec: SourceSpec) -> dict[str, Any]:
    """Every answer a report reads from the source: aggregates by period and queue, per
    ticket, the data-quality counts, the gates' facts and the rows."""
    with open_store(folder, spec) as data:
        requests = [Request("all", AGGREGATION, {}, ((), ("queue",))),
                    Request("billing", AGGREGATION, {"queue": ["Billing"]}, ((),)),
                    Request("ticket", PER_TICKET, {}, ((), ("queue",)))]
        result = data.aggregate("responses", requests)
        quality = data.quality("responses")
        rows = data.rows("responses", ["rating", "score", "queue", "flag", "ticket",
                                       "responded_at"])
        return {
            "dialect": data.dialect("responses"),
            "aggregates": result.rows,
            # data quality is counted for the report period (the last)
            "quality": quality.as_record(PERIODS[-1].key),
            "facts": data.facts("responses"),
            "nulls": [data.null_count("responses", "rating", p) for p in PERIODS],
            "duplicates": [data.duplicate_count("responses", "ticket", p) for p in PERIODS],
            "newest": data.newest("responses"),
            "rows": sorted((tuple(None if pd.isna(v) else v for v in r)
                            for r in rows.astype(object).itertuples(index=False)), key=repr),
        }


def quality_of(folder: Path, spec: SourceSpec, periods: list[Period]) -> dict[str, int]:
    with open_store(folder, spec, periods) as data:
        return data.quality("responses").as_record(periods[-1].key)


def same(a: Any, b: Any, where: str = "") -> list[str]:
    """Where ``a`` and ``b`` differ: numbers at 1e-9 (relative), the rest exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{where}: keys {sorted(map(repr, a))} != {sorted(map(repr, b))}"]
        return [d for k in a for d in same(a[k], b[k], f"{where}/{k!r}")]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{where}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in same(x, y, f"{where}[{i}]")]
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return [] if ok else [f"{where}: {a!r} != {b!r}"]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


@pytest.fixture(autouse=True)
def _fresh_results() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(autouse=True, params=["adbc", "sqlite3"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test twice: the window read by the ADBC SQLite driver (which must then have
    read every source it was given, not fallen back), and by Python's sqlite3 (the fallback,
    for a database the driver cannot open or a value it cannot type)."""
    taken: list[bool] = []
    adbc = read_once._read_by_adbc

    def recorded(*args: Any) -> bool:
        taken.append(False if request.param == "sqlite3" else adbc(*args))
        return taken[-1]

    monkeypatch.setattr(read_once, "_read_by_adbc", recorded)
    yield request.param
    if request.param == "adbc":
        assert all(taken), "the ADBC driver did not read the window: sqlite3 did"


def test_reading_once_gives_every_answer_pushing_down_gives(tmp_path: Path) -> None:
    write_db(tmp_path / "data.sqlite")
    pushed = everything(tmp_path, source("database"))
    read = everything(tmp_path, source())
    assert (pushed.pop("dialect"), read.pop("dialect")) == ("sqlite", "duckdb")
    assert not same(pushed, read), "\n".join(same(pushed, read))
    # and the answers are the data's (counted by hand from ROWS): August has T2, T3, T4;
    # October ends at 01:00 in Berlin (winter time)
    august, september, october = (read["facts"][i]["rows"] for i in range(3))
    assert (august, september, october) == (3, 5, 3)
    # each month's data quality, as that month's report counts it
    for i in range(len(PERIODS) - 1):
        assert quality_of(tmp_path, source("database"), PERIODS[:i + 1]) == \
            quality_of(tmp_path, source(), PERIODS[:i + 1])
    assert quality_of(tmp_path, source(), PERIODS[:2]) == {
        "no_time": 2, "unreadable_time": 1, "identical": 1, "control_characters:queue": 1}
    assert read["nulls"][1] == (5, 3)  # two NULL ratings and a blank one in September
    assert {r[4] for r in read["rows"]} == {f"T{i}" for i in range(2, 12)}


def test_the_sqlite_file_is_read_by_one_statement(tmp_path: Path, reader: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write_db(tmp_path / "data.sqlite")
    statements: list[str] = []

    def trace(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(statements.append)

    execute = adbc_dbapi.Cursor.execute

    def traced(cursor: Any, operation: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(operation)  # the ADBC driver's statements
        return execute(cursor, operation, *args, **kwargs)

    monkeypatch.setattr(adbc_dbapi.Cursor, "execute", traced)
    sa.event.listen(sa.pool.Pool, "connect", trace)
    try:
        everything(tmp_path, source())
        read_once = [s for s in statements if "FROM responses" in s]
        statements.clear()
        everything(tmp_path, source("database"))
        pushed = [s for s in statements if "FROM responses" in s]
    finally:
        sa.event.remove(sa.pool.Pool, "connect", trace)
    assert len(read_once) == 1
    assert "email" not in read_once[0]  # only the columns the definition uses
    assert len(pushed) >= 4  # the contract, the quality counts, the aggregates, the rows...


def test_a_change_to_the_file_changes_the_answer(tmp_path: Path) -> None:
    write_db(tmp_path / "data.sqlite")
    before = everything(tmp_path, source())
    with sqlite3.connect(tmp_path / "data.sqlite") as db:
        db.execute("UPDATE responses SET score = 100 WHERE ticket = 'T5'")
    db.close()
    after = everything(tmp_path, source())
    key = ((), 1, ())
    assert before["aggregates"][key]["all.score_mean"] != after["aggregates"][key]["all.score_mean"]
    assert after["aggregates"][key]["all.score_mean"] == pytest.approx((100 + 3 + 3 + 0.5 + 1) / 5)


@pytest.mark.parametrize("aggregate_in", ["database", None])
def test_text_in_a_number_column_is_located_by_both_paths(tmp_path: Path,
                                                           aggregate_in: str | None) -> None:
    rows = [*ROWS[:5], ("2026-09-02 10:00:00", "four", 1.0, "Billing", 1, "T20", "x@example.com"),
            ("2026-09-03 10:00:00", "4,5", 1.0, "Billing", 1, "T21", "y@example.com")]
    write_db(tmp_path / "data.sqlite", rows)
    with pytest.raises(SourceError, match=r"column 'rating': expected a whole number, found "
                       r"'four' in data row 6 \(2 such value\(s\)\)"):
        everything(tmp_path, source(aggregate_in))


@pytest.mark.parametrize("aggregate_in", ["database", None])
def test_a_fraction_in_a_whole_number_column_is_located(tmp_path: Path,
                                                         aggregate_in: str | None) -> None:
    rows = [*ROWS[:5], ("2026-09-02 10:00:00", 4.5, 1.0, "Billing", 1, "T20", "x@example.com")]
    write_db(tmp_path / "data.sqlite", rows)
    with pytest.raises(SourceError, match=r"column 'rating': expected a whole number, found "
                       r"'4.5' in data row 6"):
        everything(tmp_path, source(aggregate_in))


def test_personal_values_are_not_quoted_in_the_error(tmp_path: Path) -> None:
    rows = [*ROWS[:5], ("2026-09-02 10:00:00", "four", 1.0, "Billing", 1, "T20", "x@example.com")]
    write_db(tmp_path / "data.sqlite", rows)
    with pytest.raises(SourceError, match=r"found a value in data row 6") as raised:
        everything(tmp_path, source(pii=("email", "rating")))
    assert "four" not in str(raised.value)


def test_a_query_source_is_read_once_with_its_window_bound(tmp_path: Path) -> None:
    write_db(tmp_path / "data.sqlite")
    query = "select * from responses where responded_at >= :start and responded_at < :end"
    base = source().model_dump(exclude={"table", "aggregate_in"})
    pushed = everything(tmp_path, SourceSpec(**{**base, "query": query,
                                                "aggregate_in": "database"}))
    read = everything(tmp_path, SourceSpec(**{**base, "query": query}))
    assert (pushed.pop("dialect"), read.pop("dialect")) == ("sqlite", "duckdb")
    assert not same(pushed, read), "\n".join(same(pushed, read))


@pytest.mark.parametrize("kind", ["VIEW", "WITHOUT ROWID"])
def test_a_view_or_a_table_without_rowids_is_read_without_row_numbers(
        tmp_path: Path, kind: str) -> None:
    rows = [*ROWS[:5], ("2026-09-02 10:00:00", "four", 1.0, "Billing", 1, "T20", "x@example.com")]
    write_db(tmp_path / "data.sqlite", rows)
    with sqlite3.connect(tmp_path / "data.sqlite") as db:
        if kind == "VIEW":
            db.execute("CREATE VIEW shown AS SELECT * FROM responses")
        else:
            db.execute("CREATE TABLE shown (responded_at TEXT, rating, score REAL, queue TEXT, "
                       "flag INTEGER, ticket TEXT PRIMARY KEY, email TEXT) WITHOUT ROWID")
            db.execute("INSERT INTO shown SELECT * FROM responses")
    db.close()
    base = source().model_dump(exclude={"table", "aggregate_in"})
    for aggregate_in in ("database", None):
        spec = SourceSpec(**{**base, "table": "shown", "aggregate_in": aggregate_in})
        # no rowid to name a data row by: the error names the value, and no row
        with pytest.raises(SourceError, match=r"column 'rating': expected a whole number, "
                           r"found 'four' \(1 such value\(s\)\)"):
            everything(tmp_path, spec)
    write_db(tmp_path / "clean.sqlite")
    with sqlite3.connect(tmp_path / "clean.sqlite") as db:
        db.execute("CREATE VIEW shown AS SELECT * FROM responses")
    db.close()
    (tmp_path / "data.sqlite").unlink()
    (tmp_path / "clean.sqlite").rename(tmp_path / "data.sqlite")
    pushed = everything(tmp_path, SourceSpec(**{**base, "table": "shown",
                                                "aggregate_in": "database"}))
    read = everything(tmp_path, SourceSpec(**{**base, "table": "shown"}))
    assert (pushed.pop("dialect"), read.pop("dialect")) == ("sqlite", "duckdb")
    assert not same(pushed, read), "\n".join(same(pushed, read))
