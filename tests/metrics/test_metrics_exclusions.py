"""Values a calculator leaves out as invalid (ratings off their scale, negative durations)
are counted per metric and reason, stated in the report's data-quality note, the PDF, the
workbook and the run record, and can hold the run through a dropped_share gate."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pdfplumber
import pytest
from openpyxl import load_workbook
from pptx import Presentation
from support.metric_frames import compute_metric

from reportgen.cli import main
from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.period import Period

DEFINITION = """\
id: survey
title: Survey report
sources:
  tickets:
    kind: csv
    path: tickets.csv
    time_column: created_at
    columns: {{ticket_id: str, queue: str, rating: float, handle_minutes: float,
               first_response_minutes: float}}
metrics:
  - {{id: csat, label: CSAT, calculator: csat, source: tickets, min_n: 5}}
  - {{id: billing_csat, label: Billing CSAT, calculator: csat, source: tickets, min_n: 5,
      filter: {{queue: Billing}}}}
  - {{id: aht, label: Handle time, calculator: aht, source: tickets, min_n: 5}}
  - {{id: frt, label: First response time, calculator: first_response_time, source: tickets,
      min_n: 5}}
sections:
  - id: service
    title: Service
    kpis: [csat, billing_csat, aht, frt]
outputs:
  - {{format: pdf}}
  - {{format: xlsx}}
  - {{format: pptx}}
{gates}"""


def tickets(month: str, n: int, off_scale: dict[int, str], negative: dict[int, str],
            start: int = 0) -> list[dict[str, str]]:
    """``n`` tickets of ``month``; ``off_scale`` / ``negative``: row -> rating / column."""
    rows = []
    for i in range(n):
        rows.append({
            "ticket_id": f"T{start + i}", "created_at": f"{month}-{1 + i % 28:02d} 10:00:00",
            "queue": "Billing" if i % 2 else "Shipping",
            "rating": off_scale.get(i, str(1 + i % 5)),
            "handle_minutes": "-7.5" if negative.get(i) == "handle_minutes" else str(4 + i % 9),
            "first_response_minutes": "-3" if negative.get(i) == "first_response_minutes"
            else str(1 + i % 6)})
    return rows


def write_csv(folder: Path, rows: list[dict[str, str]]) -> None:
    with (folder / "tickets.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.DictWriter(handle, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def on_scale(rows: list[dict[str, str]], queue: str | None = None) -> int:
    return sum(1 for r in rows if 1 <= float(r["rating"]) <= 5
               and (queue is None or r["queue"] == queue))


SEPTEMBER_OFF = {3: "9", 8: "0", 12: "6", 17: "55"}  # rows 3 and 17 are Billing
SEPTEMBER_NEGATIVE = {4: "handle_minutes", 9: "handle_minutes", 21: "first_response_minutes"}


def damaged_september() -> list[dict[str, str]]:
    # August has damage of its own, which September's note must not count
    return (tickets("2026-08", 40, {1: "7"}, {2: "handle_minutes"}, start=1000)
            + tickets("2026-09", 60, SEPTEMBER_OFF, SEPTEMBER_NEGATIVE))


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as document:
        return " ".join(" ".join((page.extract_text() or "").split()) for page in document.pages)


def test_off_scale_ratings_and_negative_durations_are_counted_and_told(
        tmp_path: Path, write_definition, capsys) -> None:
    write_csv(tmp_path, damaged_september())
    path = write_definition(DEFINITION.format(gates=""))
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "succeeded"
    expected = [
        "Metric 'CSAT': 4 ratings outside 1 to 5 left out.",
        "Metric 'Billing CSAT': 2 ratings outside 1 to 5 left out.",
        "Metric 'Handle time': 2 negative durations in 'handle_minutes' left out.",
        "Metric 'First response time': 1 negative duration in 'first_response_minutes' left out.",
    ]
    (ledger,) = out.rglob("*.sqlite")
    with sqlite3.connect(ledger) as db:
        (summary,) = db.execute("SELECT summary FROM runs").fetchone()
    assert json.loads(summary)["data_quality"] == expected
    (pdf,) = out.rglob("*.pdf")
    text = pdf_text(pdf)
    for note in expected:
        assert note in text
    (book,) = out.rglob("*.xlsx")
    cells = {c for sheet in load_workbook(book, read_only=True).worksheets
             for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert set(expected) <= cells
    (deck,) = out.rglob("*.pptx")
    slides = {s.shapes.title.text if s.shapes.title is not None else "":
              " ".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame)
              for s in Presentation(str(deck)).slides}
    assert all(note in slides["Data-quality notes"] for note in expected)


def test_the_metric_n_leaves_the_counted_values_out(tmp_path: Path, write_definition) -> None:
    from datetime import UTC, datetime

    from reportgen.plan import load_definition
    from reportgen.run.build import build_report

    rows = damaged_september()
    write_csv(tmp_path, rows)
    september = [r for r in rows if r["created_at"].startswith("2026-09")]
    loaded = load_definition(write_definition(DEFINITION.format(gates="")))
    period = Period.parse("2026-09", "month", "UTC")
    metrics = build_report(loaded, period, now=datetime(2026, 10, 2, tzinfo=UTC)).model.metrics
    assert metrics["csat"].n == on_scale(september)
    assert metrics["billing_csat"].n == on_scale(september, "Billing")
    good = sum(1 for r in september if float(r["rating"]) in (4, 5))
    assert metrics["csat"].value == pytest.approx(good / on_scale(september))
    handle = [float(r["handle_minutes"]) for r in september if float(r["handle_minutes"]) >= 0]
    assert metrics["aht"].n == len(handle)
    assert metrics["aht"].value == pytest.approx(np.mean(handle))
    first = [float(r["first_response_minutes"]) for r in september
             if float(r["first_response_minutes"]) >= 0]
    assert metrics["frt"].n == len(first)
    counted = {m: [(i.reason, i.count) for i in metrics[m].left_out] for m in metrics}
    assert counted == {"csat": [("off_scale", 4)], "billing_csat": [("off_scale", 2)],
                       "aht": [("negative", 2)], "frt": [("negative", 1)]}


def test_a_dropped_share_gate_on_a_metric_holds_the_run(tmp_path: Path, write_definition,
                                                        capsys) -> None:
    write_csv(tmp_path, damaged_september())
    gate = "gates:\n  - {kind: dropped_share, source: tickets, metric: csat, max: 0.05}\n"
    out = tmp_path / "out"
    held = write_definition(DEFINITION.format(gates=gate))
    assert main(["run", str(held), "--period", "2026-09", "--out", str(out), "--json"]) == 3
    run = json.loads(capsys.readouterr().out)
    # 4 of the 60 September ratings are off the scale: 6.7%
    assert run["status"] == "held"
    assert re.search(r"metric 'csat': 6\.7% of its values .* left out \(4 ratings outside "
                     r"1 to 5\); at most 5\.0% allowed", run["error"])
    assert not list(out.rglob("*.pdf"))
    loose = write_definition(DEFINITION.format(gates=gate.replace("0.05", "0.1")), "loose.yaml")
    assert main(["run", str(loose), "--period", "2026-09", "--out", str(tmp_path / "o2")]) == 0


@pytest.mark.parametrize("calculator,column,bad,noun", [
    ("csat", "rating", [0, 6, 12], "rating"),
    ("nps", "nps_score", [-1, 11], "answer"),
    ("ces", "effort_score", [0, 8], "answer"),
    ("first_response_time", "first_response_minutes", [-1, -30], "negative duration"),
    ("resolution_time", "resolution_hours", [-2], "negative duration"),
])
def test_the_rows_path_counts_like_the_aggregate_path(calculator, column, bad, noun) -> None:
    """compute_metric over an in-memory frame (aggregating and row calculators alike)."""
    period = Period.parse("2026-10", "month", "UTC")
    good = [1, 2, 3, 4, 5] * 8
    frame = pd.DataFrame({column: [*good, *bad, None, None],
                          PERIOD_COLUMN: "2026-10"})
    earlier = pd.DataFrame({column: [*good, bad[0]], PERIOD_COLUMN: "2026-09"})
    result = compute_metric(MetricSpec(id="m", calculator=calculator, source="s",
                                       params={"column": column}),
                            pd.concat([earlier, frame], ignore_index=True), period,
                            period.trailing(3), StatisticsSpec())
    assert result.n == len(good)  # blanks are no value: neither used nor counted
    (item,) = result.left_out
    assert (item.noun, item.count) == (noun, len(bad))


def _scorecard(period: str, ratings: list[float | None], start: int = 0) -> pd.DataFrame:
    """One review per rating (one category, scale 1-4, weight 1), agents A0..A3."""
    n = len(ratings)
    return pd.DataFrame({
        "review_id": [f"R{start + i}" for i in range(n)], "category": "Tone",
        "rating": ratings, "weight": 1.0, "critical": 0, "scale_min": 1.0, "scale_max": 4.0,
        "agent_id": [f"A{i % 4}" for i in range(n)], PERIOD_COLUMN: period})


@pytest.mark.parametrize("params", [{}, {"cluster_column": "agent_id"}],
                         ids=["aggregates", "clustered rows"])
def test_a_qa_rating_off_its_categorys_scale_is_left_out_not_scored(params) -> None:
    # a 7 on a 1-4 scale would score 200: it is an error in the data, left out and counted
    period = Period.parse("2026-10", "month", "UTC")
    good = [1.0, 2.0, 3.0, 4.0] * 10
    frame = pd.concat([_scorecard("2026-09", good, 1000),
                       _scorecard("2026-10", [*good, 7.0, 0.0, None])], ignore_index=True)
    result = compute_metric(MetricSpec(id="qa", calculator="qa_score", source="qa",
                                       params=params),
                            frame, period, period.trailing(2), StatisticsSpec())
    # the in-scale ratings alone: (0 + 33.3 + 66.7 + 100) / 4 = 50 per review, on average
    assert result.n == len(good)
    assert result.value == pytest.approx(50.0)
    (item,) = result.left_out
    assert (item.noun, item.qualifier, item.count) == ("rating", "outside its category's scale", 2)
