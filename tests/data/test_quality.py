"""Data-quality notes instead of silent drops: rows dropped and values read as empty are
counted per reason and source where the data lives, and told in the report, the XLSX and
the run record; ambiguous dates need a declared format; a gate holds on too many drops."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from reportgen.cli import main
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.build import build_report

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
    columns: {{ticket_id: str, queue: str, handle_minutes: float}}
{source_extra}metrics:
  - id: volume
    calculator: volume
    source: tickets
  - id: aht
    calculator: aht
    source: tickets
    params: {{column: handle_minutes, unit: minutes}}
sections:
  - id: ops
    title: Operations
    kpis: [volume, aht]
outputs:
  - {{format: xlsx}}
{tail}"""


def write_tickets(folder: Path, rows: list[tuple[str, str, str]]) -> None:
    """rows: (ticket_id, created_at, handle_minutes)."""
    with (folder / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["ticket_id", "created_at", "queue", "handle_minutes"])
        for ticket, created, minutes in rows:
            out.writerow([ticket, created, "Billing", minutes])


def september(n: int, start: int = 0) -> list[tuple[str, str, str]]:
    return [(f"T{start + i}", f"2026-09-{1 + i % 28:02d} 09:00:00", str(10 + i % 7))
            for i in range(n)]


def build(write_definition, source_extra: str = "", tail: str = ""):
    path = write_definition(DEFINITION.format(source_extra=source_extra, tail=tail))
    return build_report(load_definition(path), SEPTEMBER, now=NOW)


def test_clean_data_says_every_row_was_used(tmp_path: Path, write_definition) -> None:
    write_tickets(tmp_path, september(50))
    result = build(write_definition)
    assert result.model.metrics["volume"].value == 50
    assert result.model.provenance.data_quality == ()


def test_duplicates_by_a_declared_key_are_dropped_and_counted(tmp_path: Path,
                                                              write_definition) -> None:
    rows = september(50)
    copies = [rows[3], rows[3], rows[10], rows[20]]  # ticket T3 exported three times
    write_tickets(tmp_path, rows + copies)
    plain = build(write_definition)
    assert plain.model.metrics["volume"].value == 54  # without a key every row counts
    keyed = build(write_definition, source_extra="    dedupe_on: [ticket_id]\n")
    assert keyed.model.metrics["volume"].value == 50
    assert keyed.model.provenance.data_quality == (
        "Source 'tickets': 4 duplicate rows dropped (the same ticket_id as an earlier row, "
        "which is kept).",)


def test_a_copy_of_a_key_first_seen_in_an_earlier_month_is_counted_in_its_own(
        tmp_path: Path, write_definition) -> None:
    august = [(f"A{i}", f"2026-08-{1 + i % 28:02d} 09:00:00", "10") for i in range(20)]
    again = [(ticket, f"2026-09-0{1 + i} 10:00:00", "11") for i, (ticket, _, _) in
             enumerate(august[:3])]  # re-exported in September with a later time
    write_tickets(tmp_path, august + september(40) + again)
    keyed = build(write_definition, source_extra="    dedupe_on: [ticket_id]\n")
    assert keyed.model.metrics["volume"].value == 40
    assert keyed.model.provenance.data_quality == (
        "Source 'tickets': 3 duplicate rows dropped (the same ticket_id as an earlier row, "
        "which is kept).",)


def test_rows_without_a_time_are_counted(tmp_path: Path, write_definition) -> None:
    rows = september(40) + [("X1", "", "12"), ("X2", "", "13"), ("X3", " ", "14")]
    write_tickets(tmp_path, rows)
    result = build(write_definition)
    assert result.model.metrics["volume"].value == 40
    (note,) = result.model.provenance.data_quality
    assert "3 rows without a 'created_at' time dropped" in note


def test_non_finite_numbers_are_read_as_empty_and_counted(tmp_path: Path,
                                                          write_definition) -> None:
    rows = september(30)
    finite = [float(r[2]) for r in rows]
    rows += [("I1", "2026-09-03 10:00:00", "inf"), ("I2", "2026-09-04 10:00:00", "-Infinity"),
             ("I3", "2026-09-05 10:00:00", "1e400")]
    write_tickets(tmp_path, rows)
    result = build(write_definition)
    aht = result.model.metrics["aht"]
    assert aht.n == 30 and aht.value == pytest.approx(sum(finite) / len(finite))
    assert result.model.metrics["volume"].value == 33  # the rows themselves stay
    (note,) = result.model.provenance.data_quality
    assert "3 invalid 'handle_minutes' values (infinite or not a number) read as blank" in note


def test_day_month_dates_are_refused_as_ambiguous_without_a_format(
        tmp_path: Path, write_definition, capsys) -> None:
    rows = [(f"T{i}", f"{1 + i % 28:02d}/09/2026 09:00", "10") for i in range(40)]
    write_tickets(tmp_path, rows)
    path = write_definition(DEFINITION.format(source_extra="", tail=""))
    code = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "tickets.csv" in err and "data row 1" in err and "date_format" in err
    assert not list((tmp_path / "out").rglob("*.xlsx"))


def test_a_declared_date_format_reads_day_month_dates(tmp_path: Path, write_definition) -> None:
    # 3 September written day first: read month first it would be 9 March
    rows = [(f"T{i}", f"{1 + i % 28:02d}/09/2026 09:00", "10") for i in range(40)]
    rows += [("M1", "09/03/2026 09:00", "10")]  # 9 March: not September
    write_tickets(tmp_path, rows)
    result = build(write_definition, source_extra="    date_format: '%d/%m/%Y %H:%M'\n")
    assert result.model.metrics["volume"].value == 40


def test_a_date_format_without_day_month_and_year_is_refused(tmp_path: Path,
                                                            write_definition, capsys) -> None:
    path = write_definition(DEFINITION.format(source_extra="    date_format: '%H:%M'\n", tail=""))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if "date_format" in text)
    assert f"report.yaml:{line}:" in err and "day, month and year" in err


def test_the_note_reaches_the_xlsx_and_the_run_record(tmp_path: Path, write_definition,
                                                      capsys) -> None:
    write_tickets(tmp_path, september(50) + september(2))
    path = write_definition(DEFINITION.format(source_extra="    dedupe_on: [ticket_id]\n",
                                              tail=""))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out)]) == 0
    (book,) = out.rglob("*.xlsx")
    cells = [c for row in load_workbook(book).worksheets[0].iter_rows(values_only=True)
             for c in row if isinstance(c, str)]
    expected = ("Source 'tickets': 2 duplicate rows dropped (the same ticket_id as an earlier "
                "row, which is kept).")
    assert expected in cells
    (ledger,) = out.rglob("*.sqlite")
    with sqlite3.connect(ledger) as db:
        (summary,) = db.execute("SELECT summary FROM runs").fetchone()
    assert json.loads(summary)["data_quality"] == [expected]


def test_a_dropped_share_gate_holds_the_run_and_says_why(tmp_path: Path, write_definition,
                                                         capsys) -> None:
    rows = september(40)
    write_tickets(tmp_path, rows + rows[:5])  # 5 of 45 rows are copies: 11.1%
    gate = "gates:\n  - {kind: dropped_share, source: tickets, max: 0.05}\n"
    path = write_definition(DEFINITION.format(source_extra="    dedupe_on: [ticket_id]\n",
                                              tail=gate))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out), "--json"]) == 3
    run = json.loads(capsys.readouterr().out)
    assert run["status"] == "held"
    assert "11.1% of the rows read" in run["error"] and "5 duplicate rows" in run["error"]
    assert not list(out.rglob("*.xlsx"))
    loose = write_definition(DEFINITION.format(
        source_extra="    dedupe_on: [ticket_id]\n",
        tail=gate.replace("max: 0.05", "max: 0.2")), "loose.yaml")
    assert main(["run", str(loose), "--period", "2026-09", "--out", str(tmp_path / "o2")]) == 0


UNREADABLE = [("U1", "2026-09-31 09:00:00", "12"), ("U2", "yesterday", "13"),
              ("U3", "09:00 on the fifth", "14")]


def test_a_few_unreadable_times_are_dropped_and_counted(tmp_path: Path, write_definition,
                                                        capsys) -> None:
    write_tickets(tmp_path, september(40) + UNREADABLE)
    result = build(write_definition)
    assert result.model.metrics["volume"].value == 40
    assert result.model.provenance.data_quality == (
        "Source 'tickets': 3 rows with an unreadable 'created_at' time dropped.",)


def test_many_unreadable_times_hold_the_run_through_the_dropped_share_gate(
        tmp_path: Path, write_definition, capsys) -> None:
    unreadable = [(f"U{i}", f"the {i}th", "12") for i in range(10)]
    write_tickets(tmp_path, september(40) + unreadable)  # 10 of 50 rows: 20%
    gate = "gates:\n  - {kind: dropped_share, source: tickets, max: 0.1}\n"
    path = write_definition(DEFINITION.format(source_extra="", tail=gate))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out), "--json"]) == 3
    run = json.loads(capsys.readouterr().out)
    assert run["status"] == "held"
    assert "20.0% of the rows read" in run["error"]
    assert "10 rows with an unreadable 'created_at' time" in run["error"]


def test_mostly_unreadable_times_are_a_wrong_column_not_damage(tmp_path: Path,
                                                               write_definition, capsys) -> None:
    # more than half unreadable: refused with a location, nothing is dropped quietly
    write_tickets(tmp_path, september(2) + UNREADABLE)
    path = write_definition(DEFINITION.format(source_extra="", tail=""))
    code = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "tickets.csv" in err and "'2026-09-31 09:00:00' in data row 3" in err
    assert "3 of the 5 times cannot be read" in err


def test_a_few_day_month_dates_stay_an_error_without_a_format(tmp_path: Path,
                                                              write_definition, capsys) -> None:
    # ambiguous, not unreadable: 03/09 is 3 September or 9 March, a guess would misplace it
    write_tickets(tmp_path, september(40) + [("D1", "03/09/2026 09:00", "10")])
    path = write_definition(DEFINITION.format(source_extra="", tail=""))
    code = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "data row 41" in err and "date_format" in err


@pytest.mark.parametrize("cut", [b"T99,2026-09-03 09:00:00,Bil", b'T99,2026-09-03 09:00:00,"Bil',
                                 b"T9"])
@pytest.mark.parametrize("rows", [40, 25_000])  # 25,000: beyond DuckDB's sniffing sample
def test_a_file_cut_off_mid_row_drops_and_counts_its_last_row(
        tmp_path: Path, write_definition, rows: int, cut: bytes) -> None:
    write_tickets(tmp_path, september(rows))
    with (tmp_path / "tickets.csv").open("ab") as handle:
        handle.write(cut)  # an export interrupted in its last row: no line break after it
    result = build(write_definition)
    assert result.model.metrics["volume"].value == rows
    assert result.model.provenance.data_quality == (
        "Source 'tickets': 1 incomplete last row dropped (the file was cut off mid-row).",)


def test_a_last_row_without_a_line_break_is_kept(tmp_path: Path, write_definition) -> None:
    write_tickets(tmp_path, september(40))
    with (tmp_path / "tickets.csv").open("ab") as handle:
        handle.write(b"T99,2026-09-03 09:00:00,Billing,12")  # every field: complete
    result = build(write_definition)
    assert result.model.metrics["volume"].value == 41
    assert result.model.provenance.data_quality == ()


@pytest.mark.parametrize("rows", [40, 25_000])
def test_a_short_row_in_the_middle_is_a_located_error(tmp_path: Path, write_definition,
                                                      capsys, rows: int) -> None:
    write_tickets(tmp_path, september(rows))
    lines = (tmp_path / "tickets.csv").read_bytes().split(b"\r\n")
    lines[12] = b"T12,2026-09-13 09:00:00"  # two of four fields, then the file goes on
    (tmp_path / "tickets.csv").write_bytes(b"\r\n".join(lines))
    path = write_definition(DEFINITION.format(source_extra="", tail=""))
    code = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "tickets.csv" in err and "line 13 of the file" in err
    assert "Expected Number of Columns: 4 Found: 2" in err


def test_a_short_row_past_the_first_read_is_located_when_the_rows_are_read(
        tmp_path: Path, write_definition, capsys) -> None:
    # the header and sample read fine; the row is only met when the rows are read
    write_tickets(tmp_path, september(60_000))
    lines = (tmp_path / "tickets.csv").read_bytes().split(b"\r\n")
    lines[50_000] = b"T50000,2026-09-13 09:00:00"
    (tmp_path / "tickets.csv").write_bytes(b"\r\n".join(lines))
    path = write_definition(DEFINITION.format(source_extra="", tail=""))
    code = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "internal error" not in err
    assert "tickets.csv" in err and "line 50,001 of the file" in err


def test_unreadable_times_in_a_sqlite_table_are_counted_not_skipped(tmp_path: Path,
                                                                  write_definition) -> None:
    # SQLite keeps times as text and the window compares text: 'yesterday' is not NULL,
    # it just falls outside every month, so it was left out without a word
    with sqlite3.connect(tmp_path / "tickets.db") as db:
        db.execute("CREATE TABLE tickets (ticket_id TEXT, created_at TEXT, queue TEXT, "
                   "handle_minutes REAL)")
        db.executemany("INSERT INTO tickets VALUES (?, ?, 'Billing', ?)",
                       september(40) + [("U2", "yesterday", "13"), ("U4", "1/9/2026", "9"),
                                        ("E1", "", "8"), ("E2", None, "8")])
    sql_source = DEFINITION.replace("kind: csv\n    path: tickets.csv",
                                    "kind: sql\n    url: sqlite:///tickets.db\n    table: tickets")
    path = write_definition(sql_source.format(source_extra="", tail=""))
    result = build_report(load_definition(path), SEPTEMBER, now=NOW)
    assert result.model.metrics["volume"].value == 40
    assert result.model.provenance.data_quality == (
        "Source 'tickets': 2 rows without a 'created_at' time dropped.",
        "Source 'tickets': 2 rows with an unreadable 'created_at' time dropped.")


@pytest.mark.parametrize("placeholder", ["NaN", "null", "N/A", "-"])
def test_placeholder_text_in_a_number_column_is_read_as_blank_and_counted(
        tmp_path: Path, write_definition, placeholder: str) -> None:
    rows = september(40)
    finite = [float(r[2]) for r in rows]
    blanks = [(f"P{i}", f"2026-09-{2 + i:02d} 10:00:00", placeholder) for i in range(6)]
    write_tickets(tmp_path, rows + blanks)
    result = build(write_definition)
    aht = result.model.metrics["aht"]
    assert aht.n == len(finite) and aht.value == pytest.approx(sum(finite) / len(finite))
    assert result.model.metrics["volume"].value == 46  # the rows themselves stay
    assert result.model.provenance.data_quality == (
        "Source 'tickets': 6 'handle_minutes' values written as a placeholder (NaN, null, "
        "N/A, -) read as blank.",)


def test_identical_rows_without_dedupe_on_are_counted_and_named(tmp_path: Path,
                                                                write_definition) -> None:
    rows = september(40)
    write_tickets(tmp_path, rows + rows[:7])  # an export appended twice over its start
    result = build(write_definition)
    assert result.model.metrics["volume"].value == 47  # kept: no key says they are copies
    assert result.model.provenance.data_quality == (
        "Source 'tickets': 7 rows identical to an earlier row in every column read, kept; "
        "set `dedupe_on` to drop copies.",)


@pytest.mark.parametrize("seed", range(4))
def test_identical_rows_are_counted_as_pandas_finds_them(tmp_path: Path, write_definition,
                                                         seed: int) -> None:
    # few distinct values, blanks among them, so copies and near-copies (one column apart)
    # are many; pandas' duplicated() on the rows as written is the count to say
    import random

    import pandas as pd

    rng = random.Random(seed)
    rows = [(f"T{rng.randrange(8)}", f"2026-09-{rng.choice((3, 17)):02d} 09:00:00",
             rng.choice(("", "10", "12.5"))) for _ in range(300)]
    with (tmp_path / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["ticket_id", "created_at", "queue", "handle_minutes"])
        for ticket, created, minutes in rows:
            out.writerow([ticket, created, rng.choice(("Billing", "")), minutes])
    frame = pd.read_csv(tmp_path / "tickets.csv", dtype=str, keep_default_na=False)
    expected = int(frame.duplicated().sum())
    assert 0 < expected < len(rows)
    result = build(write_definition)
    assert result.model.provenance.data_quality == (
        f"Source 'tickets': {expected} rows identical to an earlier row in every column read, "
        "kept; set `dedupe_on` to drop copies.",)


@pytest.mark.parametrize("damage", ["placeholders", "identical"])
def test_the_dropped_share_gate_weighs_blanks_and_identical_rows(
        tmp_path: Path, write_definition, capsys, damage: str) -> None:
    rows = september(40)
    extra = ([(f"P{i}", f"2026-09-{2 + i:02d} 10:00:00", "NaN") for i in range(10)]
             if damage == "placeholders" else rows[:10])
    write_tickets(tmp_path, rows + extra)  # 10 of 50 rows: 20%
    gate = "gates:\n  - {kind: dropped_share, source: tickets, max: 0.1}\n"
    path = write_definition(DEFINITION.format(source_extra="", tail=gate))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out), "--json"]) == 3
    run = json.loads(capsys.readouterr().out)
    assert run["status"] == "held" and "20.0% of the rows read" in run["error"]
    assert not list(out.rglob("*.xlsx"))


def test_a_metric_with_no_value_in_a_period_with_rows_is_noted(tmp_path: Path,
                                                               write_definition) -> None:
    write_tickets(tmp_path, [(f"T{i}", f"2026-09-{1 + i % 28:02d} 09:00:00", "")
                             for i in range(30)])  # every handling time empty
    result = build(write_definition)
    assert result.model.metrics["aht"].n == 0 and result.model.metrics["volume"].value == 30
    assert result.model.provenance.data_quality == (
        "Metric 'aht': n = 0, no value to count in the 30 rows of source 'tickets'.",)


@pytest.mark.parametrize("kind", ["csv", "sqlite"])
def test_control_characters_are_removed_from_text_values_and_counted(
        tmp_path: Path, write_definition, kind: str) -> None:
    # escape, bell and vertical tab break the XML of charts and slides; a tab stays text
    queues = ["Bill\x1b[0ming", "Pay\x07ments\x0b", "Ops\tdesk"]
    rows = [(f"T{i}", f"2026-09-{1 + i % 28:02d} 09:00:00", queues[i % 3], "10")
            for i in range(30)]
    source = "kind: csv\n    path: tickets.csv"
    if kind == "csv":
        with (tmp_path / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["ticket_id", "created_at", "queue", "handle_minutes"])
            out.writerows(rows)
    else:
        with sqlite3.connect(tmp_path / "tickets.db") as db:
            db.execute("CREATE TABLE tickets (ticket_id TEXT, created_at TEXT, queue TEXT, "
                       "handle_minutes REAL)")
            db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?)", rows)
        source = "kind: sql\n    url: sqlite:///tickets.db\n    table: tickets"
    text = DEFINITION.replace("kind: csv\n    path: tickets.csv", source).replace(
        "calculator: volume\n    source: tickets", "calculator: volume\n    source: tickets\n"
        "    by: [queue]")
    path = write_definition(text.format(source_extra="", tail=""))

    result = build_report(load_definition(path), SEPTEMBER, now=NOW)

    rows_by_queue = {r.label: r.n for r in result.model.metrics["volume"].breakdowns["queue"]}
    assert rows_by_queue == {"Bill[0ming": 10, "Payments": 10, "Ops\tdesk": 10}
    assert result.model.provenance.data_quality == (
        "Source 'tickets': 20 'queue' values with control characters (invisible, such as "
        "escape or bell), which were removed.",)


FLAGS = """\
id: reopens
title: Reopen report
sources:
  tickets:
    kind: {kind}
    path: {path}
    time_column: created_at
    columns: {{ticket_id: str, status: str{declared}}}
metrics:
  - id: reopen_rate
    calculator: reopen_rate
    source: tickets
    params: {{column: reopened, status_column: status}}
sections:
  - id: ops
    title: Operations
    kpis: [reopen_rate]
outputs:
  - {{format: xlsx}}
{tail}"""


def write_reopens(folder: Path, flags: list[object], kind: str) -> str:
    """Solved tickets in September with these ``reopened`` values (and 5 open tickets whose
    flag is 7, which the rate does not read); the file's name."""
    rows = [(f"T{i}", f"2026-09-{1 + i % 28:02d} 09:00:00", "solved", flag)
            for i, flag in enumerate(flags)]
    rows += [(f"O{i}", "2026-09-03 09:00:00", "open", 7) for i in range(5)]
    if kind == "parquet":  # a typed file: the flag is a number column
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*rows, strict=True))
        pq.write_table(pa.table({"ticket_id": columns[0], "created_at": columns[1],
                                 "status": columns[2], "reopened": columns[3]}),
                       folder / "tickets.parquet")
        return "tickets.parquet"
    with (folder / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["ticket_id", "created_at", "status", "reopened"])
        out.writerows(rows)
    return "tickets.csv"


@pytest.mark.parametrize(("kind", "declared", "odd"), [
    ("csv", ", reopened: int", 2),      # declared a number: 2 is a number, not a flag
    ("csv", ", reopened: str", "maybe"),  # text: 1/0, yes/no are read, the rest is not
    ("parquet", ", reopened: int", 2),  # a number column of a typed file
])
def test_flag_values_other_than_1_or_0_are_left_out_and_counted(
        tmp_path: Path, write_definition, kind: str, declared: str, odd: object) -> None:
    flags: list[object] = [1] * 6 + [0] * 24 + [odd] * 4  # 6 of 30 reopened, 4 neither
    path = write_definition(FLAGS.format(kind=kind, declared=declared, tail="",
                                         path=write_reopens(tmp_path, flags, kind)))
    result = build_report(load_definition(path), SEPTEMBER, now=NOW)
    rate = result.model.metrics["reopen_rate"]
    # a 2 read as "reopened" would make it 10 of 34; the odd values are out of n
    assert rate.n == 30 and rate.value == pytest.approx(6 / 30)
    assert result.model.provenance.data_quality == (
        "Metric 'reopen_rate': 4 'reopened' values other than 1/0, true/false or yes/no "
        "left out.",)


def test_a_dropped_share_gate_on_a_metric_holds_for_flags_that_are_not_flags(
        tmp_path: Path, write_definition, capsys) -> None:
    flags: list[object] = [1] * 6 + [0] * 24 + [2] * 10  # 10 of 40: 25%
    gate = ("gates:\n  - {kind: dropped_share, source: tickets, metric: reopen_rate, "
            "max: 0.1}\n")
    path = write_definition(FLAGS.format(kind="csv", declared=", reopened: int", tail=gate,
                                         path=write_reopens(tmp_path, flags, "csv")))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out), "--json"]) == 3
    run = json.loads(capsys.readouterr().out)
    assert run["status"] == "held"
    assert ("25.0% of its values for September 2026 were left out (10 'reopened' values "
            "other than 1/0, true/false or yes/no)") in run["error"]
    assert not list(out.rglob("*.xlsx"))


def test_a_dropped_share_gate_on_a_metric_holds_when_n_is_0_in_a_period_with_rows(
        tmp_path: Path, write_definition, capsys) -> None:
    write_tickets(tmp_path, [(f"T{i}", f"2026-09-{1 + i % 28:02d} 09:00:00", "")
                             for i in range(30)])  # every handling time empty
    gate = "gates:\n  - {kind: dropped_share, source: tickets, metric: aht, max: 0.5}\n"
    path = write_definition(DEFINITION.format(source_extra="", tail=gate))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out), "--json"]) == 3
    run = json.loads(capsys.readouterr().out)
    assert run["status"] == "held"
    assert "100.0% of its values for September 2026 were left out" in run["error"]
    assert "n = 0, no value to count in the 30 rows of September 2026" in run["error"]


def test_history_months_without_data_are_one_line_in_the_methodology(
        tmp_path: Path, write_definition) -> None:
    """A source that starts within the history window: its empty months read as one range,
    not one line a month (13 months of history, data in August and September only)."""
    august = [(f"A{i}", f"2026-08-{1 + i % 28:02d} 09:00:00", "12") for i in range(30)]
    write_tickets(tmp_path, august + september(30))
    result = build(write_definition)
    (note,) = [n for n in result.model.methodology if n.metric_id == "aht"]
    assert note.suppressed == ("Sep 25 to Jul 26: no data, 11 months",)
