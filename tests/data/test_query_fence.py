"""A DuckDB ``query:`` source reads its declared files and nothing else: a query that reads
another file, lists a folder, installs or loads an extension, or is more than one SELECT is
refused with the source named (exit 2), and nothing is written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reportgen.cli import main

DEFINITION = """\
id: fenced
title: Fenced report
sources:
  tickets:
    kind: duckdb
    files: {{tickets: tickets.csv}}
    query: "{query}"
    time_column: created_at
    columns: {{ticket_id: str, queue: str}}
metrics:
  - {{id: volume, calculator: volume, source: tickets}}
sections:
  - {{id: ops, title: Operations, kpis: [volume]}}
outputs:
  - {{format: xlsx}}
"""

SECRET = "s3cr3t-value-of-another-file"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    with (tmp_path / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["ticket_id", "created_at", "queue"])
        out.writerows([f"T{i}", f"2026-09-{1 + i % 28:02d} 09:00:00", "Billing"]
                      for i in range(30))
    (tmp_path / "secret.csv").write_text(f"ticket_id,created_at,queue\n{SECRET},"
                                         "2026-09-02 09:00:00,x\n", encoding="utf-8")
    return tmp_path


def run(folder: Path, query: str, capsys) -> tuple[int, str]:
    (folder / "report.yaml").write_text(DEFINITION.format(query=query), encoding="utf-8")
    code = main(["run", str(folder / "report.yaml"), "--period", "2026-09",
                 "--out", str(folder / "out")])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_the_declared_files_are_read(folder: Path, capsys) -> None:
    code, _ = run(folder, "select * from tickets", capsys)
    assert code == 0 and list((folder / "out").rglob("*.xlsx"))


@pytest.mark.parametrize("query", [
    "select '2026-09-02 09:00:00' as created_at, content as ticket_id, 'x' as queue "
    "from read_text('/etc/passwd')",
    "select * from read_csv('{secret}')",
    "select * from tickets union all select * from read_csv_auto('{secret}')",
    "select '2026-09-02 09:00:00' as created_at, file as ticket_id, 'x' as queue "
    "from glob('{folder}/*')",
    "select * from read_csv('https://example.com/tickets.csv')",
], ids=["read_text", "read_csv-other-path", "union-other-path", "glob", "url"])
def test_a_query_reading_anything_else_is_refused(folder: Path, capsys, query: str) -> None:
    query = query.format(secret=folder / "secret.csv", folder=folder)
    code, err = run(folder, query, capsys)
    assert code == 2, err
    assert "Traceback" not in err and "source 'tickets'" in err
    assert "declared files" in err
    assert SECRET not in err and "root:" not in err
    assert not (folder / "out").exists() or not list((folder / "out").rglob("*.xlsx"))


@pytest.mark.parametrize("query", [
    "INSTALL httpfs", "LOAD httpfs", "INSTALL httpfs; select * from tickets",
    "select * from tickets; select * from tickets",
    "ATTACH '{folder}/other.duckdb' AS other", "SET enable_external_access = true",
    "COPY (select 1) TO '{folder}/written.csv'", "PRAGMA version",
], ids=["install", "load", "install-then-select", "two-selects", "attach", "set", "copy",
        "pragma"])
def test_anything_but_one_select_is_refused(folder: Path, capsys, query: str) -> None:
    code, err = run(folder, query.format(folder=folder), capsys)
    assert code == 2, err
    assert "Traceback" not in err and "source 'tickets'" in err
    assert "expected a single SELECT statement" in err
    assert not (folder / "written.csv").exists() and not (folder / "other.duckdb").exists()
    assert not (folder / "out").exists() or not list((folder / "out").rglob("*.xlsx"))
