"""A broken CSV row is named by its line in the file, as an editor shows it, however many
quoted fields with line breaks come before it and wherever the reader finds it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reportgen.cli import main

DEFINITION = """\
id: tickets
title: Ticket report
sources:
  tickets:
    kind: csv
    path: tickets.csv
    time_column: created_at
    columns: {ticket_id: str, queue: str, comment: str}
metrics:
  - {id: volume, calculator: volume, source: tickets}
sections:
  - {id: ops, title: Operations, kpis: [volume]}
outputs:
  - {format: xlsx}
"""


def write(folder: Path, rows: int, multiline: int, broken_row: int, broken: str) -> int:
    """Write ``rows`` tickets, the first ``multiline`` with a two-line comment, and the
    ``broken_row``-th data row replaced by ``broken``; return that row's line in the file."""
    path = folder / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["ticket_id", "created_at", "queue", "comment"])
        for i in range(1, rows + 1):
            if i == broken_row:
                handle.write(broken + "\n")
                continue
            comment = "asked twice\nthen closed" if i <= multiline else "closed"
            out.writerow([f"T{i}", f"2026-09-{1 + i % 28:02d} 09:00:00", "Billing", comment])
    data = path.read_bytes()
    return data[:data.index(broken.encode())].count(b"\n") + 1


@pytest.mark.parametrize(("rows", "multiline", "broken_row"), [
    (400, 0, 301),          # plain lines
    (400, 150, 301),        # 150 comments over two lines before it
    (30_000, 1_000, 2_000),  # beyond the sample the file is first checked with
    (30_000, 1_000, 25_000),
])
@pytest.mark.parametrize("broken", ["T0,2026-09-02 09:00:00", "T0,2026-09-02 09:00:00,B,c,extra"])
def test_a_broken_row_is_named_by_its_true_line(tmp_path: Path, capsys, rows: int,
                                                multiline: int, broken_row: int,
                                                broken: str) -> None:
    line = write(tmp_path, rows, multiline, broken_row, broken)
    assert line == broken_row + 1 + multiline  # the header, then one more line per comment
    (tmp_path / "report.yaml").write_text(DEFINITION, encoding="utf-8")
    code = main(["run", str(tmp_path / "report.yaml"), "--period", "2026-09",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "tickets.csv): cannot read the " in err
    assert f"line {line:,} of the file" in err, err
    assert not list((tmp_path / "out").rglob("*.xlsx"))
