from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from reportgen.cli import main
from reportgen.definition.models import SourceSpec
from reportgen.errors import MissingColumnsError, SourceError
from reportgen.sources import Window, fetch_source

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


def load(s: SourceSpec, base: Path, needed=("rating", "queue")):
    return fetch_source("csat", s, list(needed), WINDOW, base, "UTC")


def test_csv_loads_only_the_window_and_the_needed_columns(tmp_path):
    ROWS.to_csv(tmp_path / "csat.csv", index=False)
    loaded = load(spec(kind="csv", path="csat.csv"), tmp_path)
    assert list(loaded.frame["rating"]) == INSIDE
    assert "customer_email" not in loaded.frame.columns
    assert str(loaded.frame["responded_at"].dt.tz) == "UTC"
    assert len(loaded.sha256) == 64


def test_xlsx(tmp_path):
    ROWS.to_excel(tmp_path / "csat.xlsx", index=False, sheet_name="Responses")
    loaded = load(spec(kind="excel", path="csat.xlsx", sheet="Responses"), tmp_path)
    assert list(loaded.frame["rating"]) == INSIDE
    with pytest.raises(SourceError, match="cannot read sheet 'Nope'"):
        load(spec(kind="excel", path="csat.xlsx", sheet="Nope"), tmp_path)


def test_parquet(tmp_path):
    frame = ROWS.assign(responded_at=pd.to_datetime(ROWS["responded_at"]))
    frame.to_parquet(tmp_path / "csat.parquet", index=False)
    loaded = load(spec(kind="parquet", path="csat.parquet"), tmp_path)
    assert list(loaded.frame["rating"]) == INSIDE
    assert list(loaded.frame["queue"]) == ["Billing", "Payments", "Payments"]


def _sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "data.sqlite"
    with sqlite3.connect(path) as conn:
        ROWS.to_sql("csat_responses", conn, index=False)
    return path


def test_sqlite_table_binds_the_window(tmp_path):
    _sqlite(tmp_path)
    loaded = load(spec(kind="sql", url="sqlite:///data.sqlite", table="csat_responses"), tmp_path)
    assert list(loaded.frame["rating"]) == INSIDE


def test_sqlite_query_gets_start_and_end_parameters(tmp_path):
    _sqlite(tmp_path)
    query = ("select responded_at, rating, queue from csat_responses "
             "where responded_at >= :start and responded_at < :end and queue = 'Payments'")
    loaded = load(spec(kind="sql", url="sqlite:///data.sqlite", query=query), tmp_path)
    assert list(loaded.frame["rating"]) == [4, 2]


def test_duckdb_query_over_csv_files(tmp_path):
    ROWS.to_csv(tmp_path / "csat.csv", index=False)
    query = "select * from responses where responded_at >= $start and responded_at < $end"
    loaded = load(spec(kind="duckdb", files={"responses": "csat.csv"}, query=query), tmp_path)
    assert list(loaded.frame["rating"]) == INSIDE


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
    loaded = fetch_source("export", s, ["rating", "channel"], WINDOW, tmp_path, "Europe/Berlin")
    assert list(loaded.frame["rating"]) == [5, 1, 5]
    assert list(loaded.frame["channel"]) == ["Chat", "Email", "Chat"]
    assert str(loaded.frame["created"].dt.tz) == "Europe/Berlin"


def test_missing_column_names_the_file_the_column_and_what_exists(tmp_path):
    ROWS.drop(columns=["rating"]).to_csv(tmp_path / "csat.csv", index=False)
    with pytest.raises(MissingColumnsError) as info:
        load(spec(kind="csv", path="csat.csv"), tmp_path)
    message = str(info.value)
    assert str(tmp_path / "csat.csv") in message
    assert "missing column 'rating'" in message
    assert "available columns: 'responded_at', 'queue', 'customer_email'" in message
    assert "\n" not in message


def test_unparseable_date_names_the_column_value_and_row(tmp_path):
    ROWS.assign(responded_at=["2026-09-01 10:00", "soon", "2026-09-02", "x", "2026-09-03"]) \
        .to_csv(tmp_path / "csat.csv", index=False)
    with pytest.raises(SourceError) as info:
        load(spec(kind="csv", path="csat.csv"), tmp_path)
    assert "column 'responded_at'" in str(info.value)
    assert "'soon' in data row 2" in str(info.value) and "2 such value(s)" in str(info.value)


def test_wrong_type_names_the_column_and_the_value(tmp_path):
    ROWS.assign(rating=[5, "five", 4, 2, 5]).to_csv(tmp_path / "csat.csv", index=False)
    with pytest.raises(SourceError, match=r"column 'rating': expected a whole number, found 'five'"):
        load(spec(kind="csv", path="csat.csv"), tmp_path)


def test_missing_file_and_missing_table(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        load(spec(kind="csv", path="nope.csv"), tmp_path)
    _sqlite(tmp_path)
    with pytest.raises(SourceError, match="table 'nope' not found"):
        load(spec(kind="sql", url="sqlite:///data.sqlite", table="nope"), tmp_path)


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
