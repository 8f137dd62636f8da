"""The documented example definition for a public ticket export
(docs/examples/public_ticket_export.yaml), run on a small synthetic file of the same shape.

The real export (8,469 tickets) is not part of the project: the file built here has its
columns, its text timestamps, its personal data and its small numbers (a rating only on
closed tickets, about a hundred a month), arranged so that in May 2021

* every ticket type and every priority has fewer than 30 responses (about 20 each), yet
  the month has about a hundred,
* two of the four channels have 30 responses or more and two do not, and one of the two
  is below the CSAT target.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pdfplumber
import pytest

from reportgen.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "public_ticket_export.yaml"

TYPES = ("Refund request", "Technical issue", "Cancellation request", "Product inquiry",
         "Billing inquiry")
PRIORITIES = ("Critical", "High", "Low", "Medium")
#: rated tickets per channel in each month: two reach the minimum of 30, two do not
RATED = {"Email": 34, "Chat": 32, "Phone": 20, "Social media": 16}
HEADER = ("Ticket ID", "Customer Name", "Customer Email", "Customer Age", "Customer Gender",
          "Product Purchased", "Date of Purchase", "Ticket Type", "Ticket Subject",
          "Ticket Description", "Ticket Status", "Resolution", "Ticket Priority",
          "Ticket Channel", "First Response Time", "Time to Resolution",
          "Customer Satisfaction Rating")


def rating_for(channel: str, i: int) -> int:
    """Email is mostly unhappy (below a 60% target), the others mostly happy."""
    cycle = (1, 2, 4, 3, 5) if channel == "Email" else (5, 4, 4, 5, 2)
    return cycle[i % len(cycle)]


def write_export(path: Path) -> dict[str, int]:
    """A ticket export like the public one for April and May 2021; returns the number of
    rated tickets per (month, ticket type) for the test's own expectations."""
    rows = []
    rated: dict[str, int] = {}
    ticket = 0
    for month in (date(2021, 4, 1), date(2021, 5, 1)):
        index = 0
        for channel, count in RATED.items():
            for i in range(count + 25):  # 25 open or pending tickets per channel, unrated
                ticket += 1
                closed = i < count
                kind = TYPES[index % len(TYPES)]
                priority = PRIORITIES[index % len(PRIORITIES)]
                index += 1
                purchased = month + timedelta(days=i % 28)
                first = datetime(2023, 6, 1, 8) + timedelta(minutes=7 * ticket)
                resolved = first + timedelta(hours=1 + i % 9) if closed else None
                if closed:
                    rated[f"{month:%Y-%m} {kind}"] = rated.get(f"{month:%Y-%m} {kind}", 0) + 1
                rows.append((
                    ticket, f"Person{ticket} Example", f"person{ticket}@example.com",
                    30 + ticket % 40, "Other", "GoPro Hero", f"{purchased:%Y-%m-%d}", kind,
                    "Product setup", "The GoPro Hero won't turn on. Please help.",
                    "Closed" if closed else "Open", "Case maybe." if closed else "",
                    priority, channel, f"{first:%Y-%m-%d %H:%M:%S}",
                    f"{resolved:%Y-%m-%d %H:%M:%S}" if resolved else "",
                    str(rating_for(channel, i)) + ".0" if closed else ""))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return rated


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("ticket-export")
    path = folder / "tickets.csv"
    return path, write_export(path)


def run_example(definition: Path, data: Path, out: Path,
                monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("REPORTGEN_TICKET_EXPORT", str(data))
    return main(["run", str(definition), "--period", "2021-05", "--out", str(out)])


@pytest.fixture(scope="module")
def report_text(export, tmp_path_factory: pytest.TempPathFactory) -> str:
    data, _ = export
    out = tmp_path_factory.mktemp("ticket-report")
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert run_example(EXAMPLE, data, out, monkeypatch) == 0
    pdf = next(out.rglob("*.pdf"))
    with pdfplumber.open(pdf) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_synthetic_export_has_the_small_numbers_it_promises(export) -> None:
    _, rated = export
    may = {k: v for k, v in rated.items() if k.startswith("2021-05")}
    assert len(may) == len(TYPES) and all(10 <= n < 30 for n in may.values())
    assert sum(may.values()) == sum(RATED.values())


def test_a_breakdown_with_every_segment_too_small_says_so_once(report_text: str) -> None:
    text = flat(report_text)
    said = ("Each ticket type has fewer than 30 responses this month; a quarterly report "
            "would have enough.")
    assert text.count(said) == 1
    assert "No data" not in text
    # the priority table says it once too, instead of a row of dashes without a reason
    assert "Each priority has fewer than 30 responses this month; a quarterly report would " \
           "have enough." in text
    assert "segment(s)" not in text


def test_segments_off_target_are_counted_among_those_shown(report_text: str) -> None:
    text = flat(report_text)
    assert "1 of the 2 channels with enough responses is off the 60.0% CSAT target" in text
    assert "2 other channels had too few to tell." in text
    assert re.search(r"\b\d+ of 2 channels (?:is|are) off", text) is None


def test_personal_data_is_never_shown(report_text: str) -> None:
    assert "@example.com" not in report_text.replace("support-lead@example.com", "")
    assert "Person1 Example" not in report_text


def test_a_derived_column_the_types_do_not_fit_points_to_its_line(
        export, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Subtracting the export's text timestamps without a cast is a definition error at
    the derived column's line (exit 2), in words, without the database's error header."""
    data, _ = export
    text = EXAMPLE.read_text(encoding="utf-8")
    cast = re.search(r"epoch\(try_cast\(resolved_at as timestamp\) - "
                     r"try_cast\(first_response_at as timestamp\)\)", text)
    assert cast is not None
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace(cast.group(0), "epoch(resolved_at - first_response_at)"),
                      encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), start=1)
                if row.strip().startswith("resolution_hours:"))
    assert run_example(broken, data, tmp_path / "out", monkeypatch) == 2
    err = capsys.readouterr().err
    assert f"broken.yaml:{line}:" in err
    assert "sources.tickets.derive.resolution_hours" in err
    assert "cannot be applied to text and text" in err and "try_cast" in err
    assert "Binder Error" not in err
