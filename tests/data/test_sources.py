"""Every source kind, read where it lives: CSV, Excel, Parquet, SQLite, PostgreSQL, DuckDB.

Each test opens a real file or server through ``DataStore`` and checks the rows of the
window, renamed and typed by the contract, and the aggregates computed there; bad data
gives one located line (source, file, column, value, data row).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from reportgen.cli import main
from reportgen.data import DataStore, Window
from reportgen.data.aggregates import Request
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import MissingColumnsError, SourceError
from reportgen.metrics import calculator
from reportgen.period import Period

SEPTEMBER, OCTOBER = (Period.parse(k, "month", "UTC") for k in ("2026-09", "2026-10"))
WINDOW = Window(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))

ROWS = pd.DataFrame({
    "responded_at": ["2026-08-31 23:59:59", "2026-09-01 00:00:00", "2026-09-15 12:00:00",
                     "2026-10-31 23:59:59", "2026-11-01 00:00:00"],
    "rating": [1, 5, 4, 2, 5],
    "queue": ["Billing", "Billing", "Payments", "Payments", "Billing"],
    "customer_email": ["a@example.com"] * 5,
})
INSIDE = [5, 4, 2]  # ratings of the rows inside the window


def spec(**kwargs) -> SourceSpec:
    base = {"time_column": "responded_at", "columns": {"rating": "int", "queue": "str"}}
    return SourceSpec(**{**base, **kwargs})


def store(s: SourceSpec, base: Path, needed=("rating", "queue"), tz: str = "UTC") -> DataStore:
    periods = [Period.parse(k, "month", tz) for k in ("2026-09", "2026-10")]
    window = Window(periods[0].start_at, periods[-1].end_at)
    return DataStore({"csat": s}, {"csat": list(needed)}, base, window, periods)


def ratings(s: SourceSpec, base: Path) -> list[int]:
    with store(s, base) as data:
        frame = data.rows("csat", ["responded_at", "rating", "queue"])
    return [int(v) for v in frame.sort_values("responded_at")["rating"]]


def csat_by_period(s: SourceSpec, base: Path) -> dict[str, tuple[float, float]]:
    """(satisfied, rated) per month, aggregated where the data lives."""
    calc = calculator("csat")
    params = calc.Params(column="rating")
    with store(s, base) as data:
        result = data.aggregate("csat", [Request("csat", calc.aggregation(params), {}, ((),))])
        out = {}
        for period in (SEPTEMBER, OCTOBER):
            est = calc.from_aggregates(result.get("csat", (), data.period_index(period)), params)
            out[period.key] = (est.successes, est.trials)
    return out


def test_csv_reads_the_window_the_needed_columns_and_aggregates_in_duckdb(tmp_path):
    ROWS.to_csv(tmp_path / "csat.csv", index=False)
    s = spec(kind="csv", path="csat.csv")
    with store(s, tmp_path) as data:
        frame = data.rows("csat", ["responded_at", "rating", "queue"])
        statements = data.statements()["csat"]
    assert sorted(frame["rating"].tolist()) == sorted(INSIDE)
    assert "customer_email" not in frame.columns
    assert str(frame["responded_at"].dt.tz) == "UTC"
    assert all("customer_email" not in sql for sql in statements)
    # September: 5 and 4 are satisfied out of 2; October: 2 is not, out of 1
    assert csat_by_period(s, tmp_path) == {"2026-09": (2, 2), "2026-10": (0, 1)}


def test_xlsx(tmp_path):
    ROWS.to_excel(tmp_path / "csat.xlsx", index=False, sheet_name="Responses")
    assert ratings(spec(kind="excel", path="csat.xlsx", sheet="Responses"), tmp_path) == INSIDE
    with pytest.raises(SourceError, match="cannot read sheet 'Nope'"):
        ratings(spec(kind="excel", path="csat.xlsx", sheet="Nope"), tmp_path)


def test_parquet_keeps_its_own_types(tmp_path):
    frame = ROWS.assign(responded_at=pd.to_datetime(ROWS["responded_at"]))
    frame.to_parquet(tmp_path / "csat.parquet", index=False)
    s = spec(kind="parquet", path="csat.parquet")
    assert ratings(s, tmp_path) == INSIDE
    assert csat_by_period(s, tmp_path) == {"2026-09": (2, 2), "2026-10": (0, 1)}


def _sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "data.sqlite"
    with sqlite3.connect(path) as conn:
        ROWS.to_sql("csat_responses", conn, index=False)
    return path


def test_sqlite_table_aggregates_in_sqlite(tmp_path):
    _sqlite(tmp_path)
    s = spec(kind="sql", url="sqlite:///data.sqlite", table="csat_responses")
    assert ratings(s, tmp_path) == INSIDE
    assert csat_by_period(s, tmp_path) == {"2026-09": (2, 2), "2026-10": (0, 1)}


def test_sqlite_query_gets_start_and_end_parameters(tmp_path):
    _sqlite(tmp_path)
    query = ("select responded_at, rating, queue from csat_responses "
             "where responded_at >= :start and responded_at < :end and queue = 'Payments'")
    assert ratings(spec(kind="sql", url="sqlite:///data.sqlite", query=query), tmp_path) == [4, 2]


def test_postgresql_table_and_query_aggregate_on_the_server(tmp_path, postgres_url):
    engine = sa.create_engine(postgres_url)
    frame = ROWS.assign(responded_at=pd.to_datetime(ROWS["responded_at"]))
    frame.to_sql("csat_responses", engine, index=False)
    engine.dispose()
    table = spec(kind="sql", url=postgres_url, table="csat_responses")
    assert ratings(table, tmp_path) == INSIDE
    assert csat_by_period(table, tmp_path) == {"2026-09": (2, 2), "2026-10": (0, 1)}
    query = spec(kind="sql", url=postgres_url, query=(
        "select responded_at, rating, queue from csat_responses "
        "where responded_at >= :start and responded_at < :end and queue = 'Billing'"))
    assert csat_by_period(query, tmp_path) == {"2026-09": (1, 1), "2026-10": (0, 0)}


def test_postgresql_aggregates_are_grouping_sets_on_the_server(tmp_path, postgres_url):
    engine = sa.create_engine(postgres_url)
    ROWS.assign(responded_at=pd.to_datetime(ROWS["responded_at"])).to_sql(
        "csat_responses", engine, index=False)
    engine.dispose()
    calc = calculator("csat")
    params = calc.Params(column="rating")
    with store(spec(kind="sql", url=postgres_url, table="csat_responses"), tmp_path) as data:
        result = data.aggregate("csat", [Request("csat", calc.aggregation(params), {},
                                                 ((), ("queue",)))])
        sql = " ".join(data.statements()["csat"])
        segments = sorted(result.segments(("queue",), data.period_index(SEPTEMBER)))
    assert "GROUPING SETS" in sql.upper()
    assert segments == [("Billing",), ("Payments",)]


def test_duckdb_query_over_csv_files(tmp_path):
    ROWS.to_csv(tmp_path / "csat.csv", index=False)
    query = "select * from responses where responded_at >= $start and responded_at < $end"
    assert ratings(spec(kind="duckdb", files={"responses": "csat.csv"}, query=query),
                   tmp_path) == INSIDE


def test_duckdb_query_over_parquet_with_typed_times(tmp_path):
    # a Parquet export holds TIMESTAMP columns: $start and $end compare with them as times
    frame = ROWS.assign(responded_at=pd.to_datetime(ROWS["responded_at"]))
    frame.to_parquet(tmp_path / "csat.parquet", index=False)
    query = "select * from responses where responded_at >= $start and responded_at < $end"
    s = spec(kind="duckdb", files={"responses": "csat.parquet"}, query=query)
    assert ratings(s, tmp_path) == INSIDE
    assert csat_by_period(s, tmp_path) == {"2026-09": (2, 2), "2026-10": (0, 1)}


def test_duckdb_database_file(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        conn.register("frame", ROWS.assign(responded_at=pd.to_datetime(ROWS["responded_at"])))
        conn.execute("create table responses as select * from frame")
    s = spec(kind="duckdb", path="warehouse.duckdb", query="select * from responses")
    assert ratings(s, tmp_path) == INSIDE
    assert csat_by_period(s, tmp_path) == {"2026-09": (2, 2), "2026-10": (0, 1)}


def test_rename_and_value_mapping_fit_a_real_export(tmp_path):
    export = pd.DataFrame({
        "Date of Purchase": ["2026-09-03 10:00", "2026-09-04 11:00", "2026-10-01 09:00"],
        "Customer Satisfaction Rating": ["good", "bad", "Good"],
        "Ticket Channel": ["Chat", "Email", "Chat"],
    })
    export.to_csv(tmp_path / "export.csv", index=False)
    s = SourceSpec(kind="csv", path="export.csv", time_column="created",
                   columns={"rating": "int", "channel": "str"},
                   rename={"created": "Date of Purchase", "rating": "Customer Satisfaction Rating",
                           "channel": "Ticket Channel"},
                   values={"rating": {"good": 5, "bad": 1}})
    periods = [Period.parse(k, "month", "Europe/Berlin") for k in ("2026-09", "2026-10")]
    with DataStore({"export": s}, {"export": ["rating", "channel"]}, tmp_path,
                   Window(periods[0].start_at, periods[-1].end_at), periods) as data:
        frame = data.rows("export", ["created", "rating", "channel"]).sort_values("created")
    assert list(frame["rating"]) == [5, 1, 5]
    assert list(frame["channel"]) == ["Chat", "Email", "Chat"]
    assert str(frame["created"].dt.tz) == "Europe/Berlin"
    assert list(frame["__period__"]) == ["2026-09", "2026-09", "2026-10"]


def test_naive_times_are_read_in_the_source_timezone(tmp_path):
    # 2026-09-30 23:30 in New York is 1 October in UTC: the row belongs to October.
    pd.DataFrame({"responded_at": ["2026-09-30 23:30:00", "2026-09-30 12:00:00"],
                  "rating": [5, 1], "queue": ["A", "A"]}).to_csv(tmp_path / "c.csv", index=False)
    s = spec(kind="csv", path="c.csv", timezone="America/New_York")
    assert csat_by_period(s, tmp_path) == {"2026-09": (0, 1), "2026-10": (1, 1)}


def test_missing_column_names_the_file_the_column_and_what_exists(tmp_path):
    ROWS.drop(columns=["rating"]).to_csv(tmp_path / "csat.csv", index=False)
    with pytest.raises(MissingColumnsError) as info:
        ratings(spec(kind="csv", path="csat.csv"), tmp_path)
    message = str(info.value)
    assert str(tmp_path / "csat.csv") in message
    assert "missing column 'rating'" in message
    assert "available columns: 'responded_at', 'queue', 'customer_email'" in message
    assert "\n" not in message


def test_a_few_unparseable_dates_are_dropped_and_counted(tmp_path):
    ROWS.assign(responded_at=["2026-09-01 10:00", "soon", "2026-09-02", "x", "2026-09-03"]) \
        .to_csv(tmp_path / "csat.csv", index=False)
    with store(spec(kind="csv", path="csat.csv"), tmp_path) as data:
        frame = data.rows("csat", ["responded_at", "rating"])
        counts = data.quality("csat")
    assert sorted(frame["rating"]) == [1, 4, 5]  # the rows of 'soon' and 'x' are gone
    assert (counts.unreadable, counts.undated) == (2, 0)
    assert counts.dropped("2026-10") == 2  # their period is unknown: told in every one


def test_mostly_unparseable_dates_name_the_column_value_and_row(tmp_path):
    ROWS.assign(responded_at=["2026-09-01 10:00", "soon", "2026-09-02", "x", "later"]) \
        .to_csv(tmp_path / "csat.csv", index=False)
    with pytest.raises(SourceError) as info:
        ratings(spec(kind="csv", path="csat.csv"), tmp_path)
    assert "column 'responded_at'" in str(info.value)
    assert "'soon' in data row 2" in str(info.value) and "3 of the 5 times" in str(info.value)


def test_wrong_type_names_the_column_the_value_and_the_row(tmp_path):
    ROWS.assign(rating=[5, "five", 4, 2, 5]).to_csv(tmp_path / "csat.csv", index=False)
    with pytest.raises(SourceError, match=r"column 'rating': expected a whole number, found "
                                          r"'five' in data row 2 \(1 such value\(s\)\)"):
        ratings(spec(kind="csv", path="csat.csv"), tmp_path)


def test_a_fraction_in_a_whole_number_column_is_located(tmp_path):
    ROWS.assign(rating=[5, 4, 4.5, 2, 5]).to_csv(tmp_path / "csat.csv", index=False)
    with pytest.raises(SourceError, match=r"expected a whole number, found '4.5' in data row 3"):
        ratings(spec(kind="csv", path="csat.csv"), tmp_path)


def test_text_in_a_sqlite_number_column_is_located(tmp_path):
    path = tmp_path / "data.sqlite"
    with sqlite3.connect(path) as conn:
        ROWS.assign(rating=["5", "five", "4", "2", "5"]).to_sql("csat_responses", conn,
                                                                 index=False)
    with pytest.raises(SourceError, match=r"column 'rating': expected a whole number, found "
                                          r"'five'"):
        ratings(spec(kind="sql", url="sqlite:///data.sqlite", table="csat_responses"), tmp_path)


def test_missing_file_and_missing_table(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        ratings(spec(kind="csv", path="nope.csv"), tmp_path)
    _sqlite(tmp_path)
    with pytest.raises(SourceError, match="table 'nope' not found"):
        ratings(spec(kind="sql", url="sqlite:///data.sqlite", table="nope"), tmp_path)


def test_a_bad_sql_query_is_a_located_error(tmp_path):
    _sqlite(tmp_path)
    with pytest.raises(SourceError, match=r"source 'csat' .*query failed: .*no such table"):
        ratings(spec(kind="sql", url="sqlite:///data.sqlite", query="select * from nowhere"),
                tmp_path)


def test_results_are_cached_per_source_and_window(tmp_path):
    ROWS.to_csv(tmp_path / "csat.csv", index=False)
    s = spec(kind="csv", path="csat.csv")
    first = csat_by_period(s, tmp_path)
    (tmp_path / "csat.csv").write_text("responded_at,rating,queue\n2026-09-02 10:00,1,A\n")
    # the file changed (size and time): its results are not reused
    assert csat_by_period(s, tmp_path) != first


def test_run_with_a_missing_column_exits_2_with_one_line_and_writes_nothing(
        tmp_path, write_definition, capsys):
    ROWS.drop(columns=["rating"]).to_csv(tmp_path / "csat.csv", index=False)
    path = write_definition("""
        id: mqr
        title: Monthly Quality Report
        sources:
          csat: {kind: csv, path: csat.csv, time_column: responded_at, columns: {rating: int}}
        metrics:
          - {id: csat, calculator: csat, source: csat, params: {column: rating}}
        sections:
          - {id: voc, title: Voice of the customer, kpis: [csat]}
        """)
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-10", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "csat.csv" in err and "missing column 'rating'" in err and "'responded_at'" in err
    assert not [p for p in out.iterdir() if p.suffix in (".pdf", ".pptx", ".part")]


def test_a_derived_column_turns_two_timestamps_into_a_duration(tmp_path):
    pd.DataFrame({
        "created_at": ["2026-09-01 08:00:00", "2026-09-02 10:00:00", "2026-10-05 09:00:00"],
        "first_response_at": ["2026-09-01 08:30:00", "2026-09-02 12:00:00", "2026-10-05 09:06:00"],
        "queue": ["A", "A", "B"],
    }).to_csv(tmp_path / "tickets.csv", index=False)
    s = SourceSpec(kind="csv", path="tickets.csv", time_column="created_at",
                   columns={"first_response_at": "datetime", "frt_minutes": "float"},
                   derive={"frt_minutes": "epoch(first_response_at - created_at) / 60"})
    periods = [Period.parse(k, "month", "UTC") for k in ("2026-09", "2026-10")]
    with DataStore({"t": s}, {"t": ["frt_minutes"]}, tmp_path,
                   Window(periods[0].start_at, periods[-1].end_at), periods) as data:
        frame = data.rows("t", ["created_at", "frt_minutes"]).sort_values("created_at")
        calc = calculator("aht")
        params = calc.Params(column="frt_minutes")
        result = data.aggregate("t", [Request("m", calc.aggregation(params), {}, ((),))])
        september = calc.from_aggregates(result.get("m", (), 0), params)
    assert list(frame["frt_minutes"]) == [30.0, 120.0, 6.0]
    assert (september.n, september.value) == (2, 75.0)


def test_a_derived_column_may_not_read_files_or_the_environment():
    for expression in ("getenv('PGPASSWORD')", "(select 1)", "read_csv('/etc/passwd')"):
        with pytest.raises(ValueError, match="not allowed in a derived column"):
            SourceSpec(kind="csv", path="t.csv", time_column="t", derive={"x": expression})
    with pytest.raises(ValueError, match="not a valid SQL expression"):
        SourceSpec(kind="csv", path="t.csv", time_column="t", derive={"x": "1 +"})


def test_a_derived_column_over_a_missing_column_is_a_located_error(tmp_path):
    ROWS.to_csv(tmp_path / "csat.csv", index=False)
    s = spec(kind="csv", path="csat.csv", derive={"double": "ratng * 2"})
    data = store(s, tmp_path, needed=("rating", "double"))
    with pytest.raises(SourceError, match=r"source 'csat' .*missing column \"ratng \(read by "
                                          r"derived column 'double'\)\""):
        data.rows("csat", ["double"])
    data.close()


def test_validate_reports_a_bad_derived_column_with_its_line(write_definition, capsys):
    path = write_definition("""
        id: mqr
        title: Monthly Quality Report
        sources:
          t:
            kind: csv
            path: t.csv
            time_column: created_at
            derive: {leak: "getenv('HOME')"}
        metrics:
          - {id: v, calculator: volume, source: t}
        sections:
          - {id: s, title: S, kpis: [v]}
        """)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and "sources.t.derive" in err and "not allowed" in err
