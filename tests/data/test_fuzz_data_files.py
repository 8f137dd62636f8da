"""Broken data files, generated (seeded) from the demo tickets: every one ends in exit 0
with the damage counted in the data-quality note, or exit 2 naming the file and a row,
line or column; never exit 1, a traceback, or a write outside --out."""

from __future__ import annotations

import io
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from reportgen.cli import main

COLUMNS = ["ticket_id", "created_at", "queue", "channel", "handle_minutes", "reopened",
           "customer_email"]
DEFINITION = """\
id: tickets
title: Ticket report
sources:
  tickets:
    kind: {kind}
    path: {path}
{sheet}    time_column: created_at
    columns: {{ticket_id: str, queue: str, channel: str, handle_minutes: float, reopened: int}}
    pii: [customer_email]
    dedupe_on: [ticket_id]
metrics:
  - id: volume
    calculator: volume
    source: tickets
    by: [queue]
  - id: aht
    calculator: aht
    source: tickets
    params: {{column: handle_minutes, unit: minutes}}
sections:
  - id: ops
    title: Operations
    kpis: [volume, aht]
    tables:
      - {{metric: volume, by: queue}}
outputs:
  - {{format: xlsx}}
"""


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    data: bytes
    #: rows the data-quality note must count when the run succeeds (None: not checked)
    dropped: int | None = None
    #: the file must be refused (exit 2 naming a line), not read
    refused: bool = False


@pytest.fixture(scope="module")
def base(demo_dir: Path) -> pd.DataFrame:
    """A seeded sample of August and September 2026 tickets, every field as text."""
    frame = pd.read_csv(demo_dir / "tickets.csv", usecols=COLUMNS, dtype=str)
    frame = frame[frame["created_at"].str.startswith(("2026-08", "2026-09"))]
    return frame.sample(n=240, random_state=11).sort_values("created_at") \
        .reset_index(drop=True)[COLUMNS]


def _csv(frame: pd.DataFrame, **options) -> bytes:
    return frame.to_csv(index=False, **options).encode("utf-8")


def cases(frame: pd.DataFrame, rng: random.Random) -> list[Case]:
    text = _csv(frame)
    lines = text.split(b"\n")
    out: list[Case] = []

    def add(name: str, data: bytes, dropped: int | None = None,
            filename: str = "tickets.csv", refused: bool = False) -> None:
        out.append(Case(name, filename, data, dropped, refused))

    def edited(column: str, values: Callable[[int], str], count: int = 3) -> pd.DataFrame:
        copy = frame.copy()
        for row in rng.sample(range(len(copy)), count):
            copy.loc[row, column] = values(row)
        return copy

    for i in range(4):  # cut anywhere, even inside a quoted field or a multi-byte character
        cut = text[: rng.randrange(1, len(text))]
        last = cut.split(b"\n")[-1]
        # a last row cut short of its fields is dropped and counted; one cut inside its last
        # field still has every field and is read as it stands; a cut header is refused
        add(f"truncated-{i}", cut, None if b"\n" not in cut
            else int(last.count(b",") < len(COLUMNS) - 1))
    add("semicolons", _csv(frame, sep=";"))
    add("tabs", _csv(frame, sep="\t"))
    for i in range(3):
        at = rng.randrange(len(text) // 4, len(text))
        add(f"bad-bytes-{i}", text[:at] + b"\xff\xfe\xc3" + text[at:])
    add("latin-1", frame.assign(queue="Facturación").to_csv(index=False).encode("latin-1"))
    add("bom", b"\xef\xbb\xbf" + text)
    add("utf-16", frame.to_csv(index=False).encode("utf-16"))
    for i in range(3):
        at = rng.randrange(0, len(text))
        add(f"nul-{i}", text[:at] + b"\x00" + text[at:])
    add("nul-header", b"\x00" + text)
    add("no-header", b"\n".join(lines[1:]))
    add("header-twice", b"\n".join([lines[0], *lines[1:100], lines[0], *lines[100:]]))
    add("duplicate-column", text.replace(b"channel", b"queue", 1))
    add("renamed-number-column", text.replace(b"handle_minutes", b"Handle Minutes", 1))
    add("renamed-time-column", text.replace(b"created_at", b"Created", 1))
    add("text-in-number", _csv(edited("handle_minutes", lambda r: "twelve")))
    add("text-in-integer", _csv(edited("reopened", lambda r: "maybe")))
    add("fraction-in-integer", _csv(edited("reopened", lambda r: "0.5")))
    add("comma-decimals", _csv(edited("handle_minutes", lambda r: "12,5")))
    add("inf-and-nan", _csv(edited("handle_minutes", lambda r: rng.choice(["inf", "-inf", "NaN"]))))
    add("placeholders-in-number", _csv(edited(
        "handle_minutes", lambda r: rng.choice(["NaN", "null", "N/A", "-", "NA", "#N/A"]), 20)),
        dropped=0)
    add("dash-in-integer", _csv(edited("reopened", lambda r: "-")), dropped=0)
    add("huge-numbers", _csv(edited("handle_minutes", lambda r: rng.choice(["1e308", "-1e308",
                                                                           "9" * 40]))))
    multiline = frame.copy()
    multiline.loc[:30, "queue"] = "Bill\ning"
    written = _csv(multiline).split(b"\n")
    add("multiline-then-short-row", b"\n".join([*written[:60], written[60].split(b",")[0],
                                                  *written[61:]]), refused=True)
    stamp = pd.to_datetime(frame["created_at"])
    add("dates-dd-mm", _csv(frame.assign(created_at=stamp.dt.strftime("%d/%m/%Y %H:%M"))))
    add("dates-mm-dd", _csv(frame.assign(created_at=stamp.dt.strftime("%m/%d/%Y %H:%M"))))
    add("dates-words", _csv(frame.assign(created_at=stamp.dt.strftime("%d %B %Y"))))
    add("dates-iso-zulu", _csv(frame.assign(created_at=stamp.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    add("dates-epoch", _csv(frame.assign(created_at=(stamp.astype("int64") // 10**9).astype(str))))
    mixed = frame.copy()
    mixed.loc[::5, "created_at"] = stamp[::5].dt.strftime("%d.%m.%Y")
    add("dates-mixed", _csv(mixed))
    add("dates-empty", _csv(edited("created_at", lambda r: "", 4)), dropped=4)
    for name, value in [("emoji", "Billing 💳🔥"), ("rtl", "الفواتير \u202eetats"),
                        ("html", "<script>alert(1)</script><img src=x onerror=alert(2)>"),
                        ("template", "{{ cycler.__init__.__globals__.os.popen('id').read() }}"),
                        ("sql", "x'); DROP TABLE runs; --"), ("newline", "Bill\ning")]:
        add(f"values-{name}", _csv(edited("queue", lambda r, v=value: v, 20)), dropped=0)
    add("empty-file", b"")
    add("whitespace-file", b"  \n\n \n")
    add("header-only", lines[0] + b"\n")
    add("random-bytes", bytes(rng.randrange(256) for _ in range(2048)))
    huge = frame.copy()
    huge.loc[3, "queue"] = "Q" * 2_000_000
    add("huge-field", _csv(huge))
    add("extra-field", b"\n".join([*lines[:10], lines[10] + b",surplus,fields", *lines[11:]]),
        refused=True)
    add("unclosed-quote", b"\n".join([*lines[:10], lines[10].replace(b",", b',"', 1),
                                      *lines[11:]]))
    add("short-row", b"\n".join([*lines[:10], lines[10].split(b",")[0], *lines[11:]]),
        refused=True)
    add("crlf", text.replace(b"\n", b"\r\n"))
    add("duplicates", _csv(pd.concat([frame, frame.iloc[-12:]])), dropped=12)  # September
    add("no-september", _csv(frame[frame["created_at"].str.startswith("2026-08")]))
    # Parquet with the wrong types, and Excel workbooks
    as_text = io.BytesIO()
    frame.to_parquet(as_text, index=False)
    add("parquet-all-text", as_text.getvalue(), filename="tickets.parquet")
    typed = frame.assign(handle_minutes=["n/a"] * len(frame),
                         created_at=pd.to_datetime(frame["created_at"]).astype("int64"))
    wrong = io.BytesIO()
    typed.to_parquet(wrong, index=False)
    add("parquet-wrong-types", wrong.getvalue(), filename="tickets.parquet")
    add("parquet-truncated", as_text.getvalue()[:500], filename="tickets.parquet")
    add("parquet-is-a-csv", text, filename="tickets.parquet")
    for name, sheet in [("xlsx-missing-sheet", "Sheet1"), ("xlsx-good", "tickets")]:
        book = io.BytesIO()
        frame.to_excel(book, sheet_name=sheet, index=False)
        add(name, book.getvalue(), filename="tickets.xlsx")
    add("xlsx-is-a-csv", text, filename="tickets.xlsx")
    # exports cut off in their last row, and damage the run can count instead of refusing
    whole = text.rstrip(b"\n")
    add("cut-mid-last-row", whole[: whole.rfind(b",", 0, whole.rfind(b",") - 1)], dropped=1)
    add("cut-in-open-quote", whole + b'\nT9,"2026-09-0', dropped=1)
    add("short-row-then-cut", b"\n".join([*lines[:10], lines[10].split(b",")[0],
                                           *lines[11:]]).rstrip(b"\n") + b"\nT9,2026",
        refused=True)
    unreadable = frame.copy()
    for row in range(20, 220, 40):  # 5 rows, August and September
        unreadable.loc[row, "created_at"] = ["soon", "2026-09-31 10:00:00", "TBD", "the 3rd",
                                             "2026-13-01 09:00:00"][(row - 20) // 40]
    add("dates-unreadable", _csv(unreadable), dropped=5)
    return out


def _definition(case: Case) -> str:
    kind = {"csv": "csv", "parquet": "parquet", "xlsx": "excel"}[case.filename.split(".")[-1]]
    sheet = "    sheet: tickets\n" if kind == "excel" else ""
    return DEFINITION.format(kind=kind, path=case.filename, sheet=sheet)


def _note_counts(book: Path) -> list[str]:
    sheet = load_workbook(book, read_only=True).worksheets[0]
    return [row[0] for row in sheet.iter_rows(values_only=True)
            if row and isinstance(row[0], str) and row[0].startswith("Source '")]


def _snapshot(folder: Path, skip: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")
            if p.is_file() and skip not in p.parents}


def test_broken_data_files_end_in_a_located_refusal_or_a_counted_report(
        base: pd.DataFrame, tmp_path: Path, capsys, monkeypatch) -> None:
    rng = random.Random(2026)
    generated = cases(base, rng)
    assert len(generated) >= 59
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    accepted: list[str] = []
    ledger = f"sqlite:///{tmp_path / 'ledger' / 'runs.sqlite'}"
    (tmp_path / "ledger").mkdir()
    started = time.perf_counter()
    for i, case in enumerate(generated):
        folder = tmp_path / f"{i:02d}-{case.name}"
        folder.mkdir()
        (folder / case.filename).write_bytes(case.data)
        (folder / "report.yaml").write_text(_definition(case), encoding="utf-8")
        cwd = folder / "cwd"
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        out = folder / "out"
        before = _snapshot(folder, out)
        # one ledger for every run (creating a ledger per run would double the test's time)
        code = main(["run", str(folder / "report.yaml"), "--period", "2026-09",
                     "--out", str(out), "--ledger", ledger])
        captured = capsys.readouterr()
        err = captured.err
        outcome = {0: "exit 0", 2: "exit 2 (located refusal)"}.get(code, f"exit {code}")
        outcomes[outcome] += 1
        accepted.extend([case.name] if code == 0 else [])
        if "Traceback" in err + captured.out:
            failures.append(f"{case.name}: traceback\n{err[-2000:]}")
        if _snapshot(folder, out) != before or any(cwd.iterdir()):
            failures.append(f"{case.name}: wrote outside --out")
        if case.refused and code != 2:
            failures.append(f"{case.name}: exit {code}, a located refusal expected")
        if code == 2:
            first = err.strip().splitlines()[0] if err.strip() else ""
            located = any(word in err for word in ("row", "line", "column", "sheet",
                                                   "the whole file"))
            if case.filename not in err or not located:
                failures.append(f"{case.name}: exit 2 without file and row/column: {first}")
        elif code == 0:
            books = list(out.rglob("*.xlsx"))
            if len(books) != 1:
                failures.append(f"{case.name}: exit 0 without its workbook")
            elif case.dropped is not None:
                notes = _note_counts(books[0])
                counted = sum(int(n.split(": ")[1].split(" ")[0].replace(",", ""))
                              for n in notes if "dropped" in n)
                if counted != case.dropped:
                    failures.append(f"{case.name}: note counts {counted} dropped, "
                                    f"{case.dropped} expected ({notes})")
        else:
            failures.append(f"{case.name}: exit {code}: {err.strip()[-600:]}")
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n{len(generated)} broken data files in {seconds:.1f} s: "
              + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
              + f"\naccepted (exit 0): {', '.join(accepted)}")
    assert not failures, "\n".join(failures)
    assert seconds < 60
