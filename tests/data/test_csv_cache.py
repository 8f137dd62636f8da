"""A CSV source is read once: its first read leaves a Parquet copy that later reads take,
with the same numbers, data-quality notes and errors; a changed file, two copies made at
once and a folder that cannot be written never change what a report says."""

from __future__ import annotations

import csv
import json
import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from reportgen.data import csv_cache
from reportgen.data.csv_source import CsvConnector
from reportgen.data.result_cache import clear_cache
from reportgen.definition.content_specs import SourceSpec
from reportgen.errors import SourceError
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.build import build_report
from reportgen.settings import load_settings

SEPTEMBER = Period.parse("2026-09", "month", "UTC")
NOW = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)

DEFINITION = """\
id: tickets
title: Ticket report
sources:
  tickets:
    kind: csv
    path: tickets.csv
    time_column: created_at
    columns: {ticket_id: str, queue: str, handle_minutes: float, replies: int}
metrics:
  - {id: volume, calculator: volume, source: tickets}
  - {id: aht, calculator: aht, source: tickets, params: {column: handle_minutes, unit: minutes}}
sections:
  - {id: ops, title: Operations, kpis: [volume, aht]}
outputs:
  - {format: xlsx}
"""


@pytest.fixture(autouse=True)
def _no_cache_outside():
    csv_cache.configure(None)
    csv_cache.events.clear()
    clear_cache()
    yield
    csv_cache.configure(None)
    csv_cache.events.clear()
    clear_cache()


def write_tickets(folder: Path, minutes: list[str], *, bad_replies_at: int | None = None,
                  cut_last: bool = False) -> Path:
    """One September ticket per entry of ``minutes``, then two rows without a time; the
    ``bad_replies_at``-th data row has replies 'many'; ``cut_last`` ends the file inside an
    incomplete row."""
    path = folder / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["ticket_id", "created_at", "queue", "handle_minutes", "replies"])
        for i, value in enumerate(minutes, start=1):
            replies = "many" if i == bad_replies_at else str(i % 4)
            out.writerow([f"T{i}", f"2026-09-{1 + i % 28:02d} 09:00:00", "Billing", value,
                          replies])
        out.writerow(["X1", "", "Billing", "5", "1"])
        out.writerow(["X2", "", "Billing", "N/A", "1"])
        if cut_last:
            handle.write("T0,2026-09-03 09:")
    return path


def build(folder: Path):
    clear_cache()  # every build reads its source, not the process's earlier results
    (folder / "report.yaml").write_text(DEFINITION, encoding="utf-8")
    model = build_report(load_definition(folder / "report.yaml"), SEPTEMBER, now=NOW).model
    return ({k: (m.value, m.n) for k, m in model.metrics.items()},
            model.provenance.data_quality)


def test_a_second_build_reads_the_parquet_copy_and_says_the_same(tmp_path: Path) -> None:
    minutes = [str(10 + i % 7) for i in range(120)] + ["NaN", "N/A", "inf"]
    write_tickets(tmp_path, minutes, cut_last=True)
    expected = [float(m) for m in minutes[:120]]  # the placeholders and inf read as blank
    plain = build(tmp_path)
    assert plain[0]["volume"][0] == 123
    assert plain[0]["aht"] == (pytest.approx(sum(expected) / 120), 120)
    assert any("incomplete last row" in note for note in plain[1]), plain[1]
    assert csv_cache.events == {}

    csv_cache.configure(tmp_path / "cache")
    first = build(tmp_path)
    assert csv_cache.events == {"converted": 1}
    second = build(tmp_path)
    assert csv_cache.events == {"converted": 1, "read": 1}
    assert first == second == plain
    (copy,) = (tmp_path / "cache").glob("*.parquet")
    # the copy holds the CSV reader's rows as text, the incomplete last row left out
    rows = duckdb.sql(f"SELECT count(*), min(typeof(handle_minutes)) FROM '{copy}'").fetchall()
    assert rows == [(125, "VARCHAR")]
    # each row keeps its data row number, which is no column a definition can read
    numbers = duckdb.sql(f"SELECT min(__reportgen_data_row__), max(__reportgen_data_row__) "
                         f"FROM '{copy}'").fetchall()
    assert numbers == [(1, 125)]


def test_a_changed_csv_is_never_read_from_the_old_copy(tmp_path: Path) -> None:
    csv_cache.configure(tmp_path / "cache")
    path = write_tickets(tmp_path, ["10"] * 40)
    before = build(tmp_path)
    stamp = path.stat()
    write_tickets(tmp_path, ["10"] * 39 + ["12"])  # the same size, another value
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1))
    after = build(tmp_path)
    assert before[0]["aht"][0] == pytest.approx(10)
    assert after[0]["aht"][0] == pytest.approx((39 * 10 + 12) / 40)
    assert csv_cache.events == {"converted": 2}
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 2


def test_a_bad_cell_is_named_by_the_same_row_through_the_copy(tmp_path: Path) -> None:
    # beyond DuckDB's first row groups (122,880 rows), which are read in parallel; the
    # typed copy's rows were seen in another order than the file's
    write_tickets(tmp_path, ["10"] * 300_000, bad_replies_at=250_001)
    with pytest.raises(SourceError) as plain:
        build(tmp_path)
    csv_cache.configure(tmp_path / "cache")
    with pytest.raises(SourceError) as cached:
        build(tmp_path)
    assert csv_cache.events == {"converted": 1}
    assert str(cached.value) == str(plain.value)
    assert "found 'many' in data row 250001" in str(plain.value)
    # in whatever order the copy holds its rows, each knows its data row (ticket Ti is in
    # data row i, then X1 and X2)
    (copy,) = (tmp_path / "cache").glob("*.parquet")
    misplaced = duckdb.sql(
        f"SELECT count(*) FILTER (ticket_id <> CASE __reportgen_data_row__ WHEN 300001 THEN "
        f"'X1' WHEN 300002 THEN 'X2' ELSE 'T' || __reportgen_data_row__ END), count(*) "
        f"FROM '{copy}'").fetchall()
    assert misplaced == [(0, 300_002)]


def test_a_broken_row_is_read_from_the_csv_to_name_its_line(tmp_path: Path) -> None:
    # beyond the sample the file is first checked with, so only the whole read finds it
    path = write_tickets(tmp_path, ["10"] * 30_000)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[25_000] = "T0,2026-09-02 09:00:00\n"  # a short row, line 25,001 of the file
    path.write_text("".join(lines), encoding="utf-8")
    csv_cache.configure(tmp_path / "cache")
    with pytest.raises(SourceError, match="line 25,001 of the file"):
        build(tmp_path)
    assert csv_cache.events == {"skipped": 1}
    assert not list((tmp_path / "cache").iterdir())  # no copy, no temporary file left


def test_copies_made_at_once_leave_one_whole_copy(tmp_path: Path) -> None:
    write_tickets(tmp_path, [str(i % 50) for i in range(200_000)])
    csv_cache.configure(tmp_path / "cache")
    spec = SourceSpec.model_validate({"kind": "csv", "path": "tickets.csv",
                                      "time_column": "created_at"})
    start = threading.Barrier(2)
    counts: list[int] = []

    def read() -> None:
        start.wait()
        relation = CsvConnector().open("tickets", spec, tmp_path, (None, None))
        try:
            counts.append(relation.connection.exec_driver_sql(
                'SELECT count(*) FROM "raw"').scalar_one())
        finally:
            relation.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [200_002, 200_002]
    assert csv_cache.events["converted"] + csv_cache.events["read"] == 2
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".parquet"]


def test_a_folder_that_cannot_be_written_reads_the_csv_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_tickets(tmp_path, ["10", "20"] * 30)
    plain = build(tmp_path)
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    csv_cache.configure(tmp_path / "taken" / "cache")
    with caplog.at_level(logging.WARNING, logger="reportgen.data.csv_cache"):
        assert build(tmp_path) == plain
    assert csv_cache.events == {"skipped": 1}
    assert "read without a Parquet copy" in caplog.text


def test_pruning_deletes_the_least_recently_used_copies_first(tmp_path: Path) -> None:
    now = time.time()
    ages = {"old": 3 * 3600, "older": 5 * 3600, "recent": 2 * 3600, "in_use": 60}
    for name, age in ages.items():
        path = tmp_path / f"{name}.parquet"
        path.write_bytes(b"x" * 100)
        os.utime(path, (now - age, now - age))
    (tmp_path / "crashed.tmp").write_bytes(b"x")
    os.utime(tmp_path / "crashed.tmp", (now - 7200, now - 7200))
    assert csv_cache.prune(tmp_path, max_bytes=250, now=now) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in_use.parquet", "recent.parquet"]


def test_settings_name_the_folder_and_can_turn_copies_off(tmp_path: Path) -> None:
    settings = load_settings(None, {"REPORTGEN_OUT_DIR": str(tmp_path / "reports")})
    assert settings.resolved_csv_cache() == tmp_path / "reports" / ".csv-cache"
    assert settings.resolved_csv_cache(tmp_path / "run") == tmp_path / "run" / ".csv-cache"
    (tmp_path / "s.yaml").write_text("csv_cache: {directory: copies, max_size: 2GB}\n",
                                     encoding="utf-8")
    named = load_settings(tmp_path / "s.yaml", {})
    assert named.resolved_csv_cache() == tmp_path.resolve() / "copies"
    off = load_settings(None, {"REPORTGEN_CSV_CACHE_ENABLED": "false"})
    assert off.resolved_csv_cache() is None


def test_a_query_source_reads_its_csv_files_once(tmp_path: Path) -> None:
    from reportgen.data.duckdb_sources import DuckDbConnector

    write_tickets(tmp_path, [str(i % 9) for i in range(500)])
    spec = SourceSpec.model_validate({
        "kind": "duckdb", "files": {"t": "tickets.csv"}, "time_column": "created_at",
        "query": "select created_at, handle_minutes from t where replies >= 2"})
    csv_cache.configure(tmp_path / "cache")
    answers = []
    for _ in range(2):
        relation = DuckDbConnector().open("tickets", spec, tmp_path, (None, None))
        try:
            answers.append(relation.connection.exec_driver_sql(
                "SELECT count(*), sum(CAST(handle_minutes AS INTEGER)) FROM t "
                "WHERE replies >= 2").one())
        finally:
            relation.close()
    kept = [i for i in range(1, 501) if i % 4 >= 2]  # the rows written with replies >= 2
    assert answers == [(len(kept), sum((i - 1) % 9 for i in kept))] * 2
    assert csv_cache.events == {"converted": 1, "read": 1}


def test_the_pruning_after_a_run_bounds_the_copies_too(tmp_path: Path) -> None:
    from reportgen.ledger.retention import prune_after_run
    from reportgen.ledger.store import Ledger

    settings = load_settings(None, {"REPORTGEN_CSV_CACHE_MAX_SIZE": "150B"})
    copies = tmp_path / "out" / ".csv-cache"
    copies.mkdir(parents=True)
    old = time.time() - 2 * csv_cache.IN_USE_SECONDS
    for name in ("a", "b"):
        (copies / f"{name}.parquet").write_bytes(b"x" * 100)
    os.utime(copies / "a.parquet", (old, old))
    os.utime(copies / "b.parquet", (old + 60, old + 60))
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    try:
        prune_after_run(settings, ledger, tmp_path / "out")
    finally:
        ledger.close()
    assert [p.name for p in copies.iterdir()] == ["b.parquet"]


TYPED_DEFINITION = """\
id: tickets
title: Ticket report
sources:
  tickets:
    kind: csv
    path: tickets.csv
    time_column: created_at
    columns: {ticket_id: str, queue: str, handle_minutes: float, replies: int}
metrics:
  - {id: volume, calculator: volume, source: tickets, by: [queue]}
  - {id: aht, calculator: aht, source: tickets, params: {column: handle_minutes, unit: minutes},
     by: [queue]}
  - {id: replies, calculator: aht, source: tickets, params: {column: replies, unit: minutes}}
sections:
  - {id: ops, title: Operations, kpis: [volume, aht, replies]}
outputs:
  - {format: xlsx}
"""


def write_rows(folder: Path, rows: list[list[str]]) -> Path:
    path = folder / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["ticket_id", "created_at", "queue", "handle_minutes", "replies"])
        out.writerows(rows)
    return path


def build_typed(folder: Path) -> tuple[dict[str, object], tuple[str, ...]] | str:
    """Every metric's value, n and breakdown rows, and the data-quality notes; or the
    error's words when the build refuses the data."""
    clear_cache()
    (folder / "report.yaml").write_text(TYPED_DEFINITION, encoding="utf-8")
    try:
        model = build_report(load_definition(folder / "report.yaml"), SEPTEMBER, now=NOW).model
    except SourceError as exc:
        return str(exc)
    return ({k: (m.value, m.n, {by: [(r.key, r.value, r.n) for r in rows]
                                for by, rows in m.breakdowns.items()})
             for k, m in model.metrics.items()}, model.provenance.data_quality)


def test_columns_whose_every_value_reads_are_stored_typed_and_say_the_same(
        tmp_path: Path) -> None:
    rows = [[f"T{i}", f"2026-09-{1 + i % 28:02d} {i % 24:02d}:15:00", ["Billing", "Tech"][i % 2],
             f"{10 + i % 7}.5", str(i % 4)] for i in range(200)]
    rows += [["X1", "", "Billing", "", ""], ["X2", "  ", "Tech", "3", "1"], rows[5]]
    write_rows(tmp_path, rows)
    plain = build_typed(tmp_path)
    csv_cache.configure(tmp_path / "cache")
    assert build_typed(tmp_path) == build_typed(tmp_path) == plain
    assert csv_cache.events == {"converted": 1, "read": 1}
    assert "1 row identical to an earlier row" in " ".join(plain[1])
    (copy,) = (tmp_path / "cache").glob("*.parquet")
    types = dict(duckdb.sql(f"SELECT column_name, column_type FROM (DESCRIBE '{copy}')")
                 .fetchall())
    assert types == {"ticket_id": "VARCHAR", "created_at": "TIMESTAMP", "queue": "VARCHAR",
                     "handle_minutes": "DOUBLE", "replies": "BIGINT",
                     "__reportgen_data_row__": "BIGINT"}
    listed = duckdb.sql(f"SELECT decode(value) FROM parquet_kv_metadata('{copy}')").fetchall()
    assert sorted(json.loads(listed[0][0])) == ["queue", "ticket_id"]


# values that read, and values that do not, as a CSV may write them
MESSY = {
    "created_at": ["2026-09-03 10:00:00", "2026-09-30 23:59:59", "2026-10-01 00:00:00",
                   " 2026-09-12 08:00:00", "2026-08-31 22:30:00", "", "soon",
                   "2026-09-04T10:00:00+02:00", "2026-09-31 10:00:00"],
    "queue": ["Billing", "Tech", "", "N/A", "Bill\x1bing", "null", "Tech "],
    "handle_minutes": ["12", "7.25", " 3 ", "", "NaN", "N/A", "inf", "-", "1e3"],
    "replies": ["0", "1", "2", "", "3.0", "null", "-inf"],
}
#: values the contract refuses: one of them, now and then, in a column otherwise clean
REFUSED = [("handle_minutes", "abc"), ("replies", "2.5"), ("created_at", "03/04/2026 10:00")]


@pytest.mark.parametrize("seed", range(9))
def test_a_typed_copy_says_what_the_csv_says_however_messy_the_columns(
        tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    # each column is clean (its first, readable values only) or messy at random, so
    # copies type some columns and keep others as text
    pools = {column: values[:2] if rng.random() < 0.5 else values
             for column, values in MESSY.items()}
    rows = [[f"T{rng.randrange(60)}", *(rng.choice(pools[c]) for c in MESSY)]
            for _ in range(150)]
    rows += rng.sample(rows, 5)  # identical copies
    if seed % 3 == 2:  # in a row of the month, where the contract checks every column
        column, value = REFUSED[seed // 3]
        row = rows[rng.randrange(len(rows))]
        row[1] = "2026-09-03 10:00:00"
        row[1 + list(MESSY).index(column)] = value
    write_rows(tmp_path, rows)
    plain = build_typed(tmp_path)
    assert isinstance(plain, tuple) == (seed % 3 != 2), plain
    csv_cache.configure(tmp_path / "cache")
    made, read = build_typed(tmp_path), build_typed(tmp_path)
    assert made == read == plain
    assert csv_cache.events == {"converted": 1, "read": 1}
