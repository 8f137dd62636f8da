"""The queue scorecard, the tiles' sparklines and the status legend of the example MQR,
checked against the demo's raw files and read back from the PDF."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pdfplumber
import pytest

#: the example MQR's statistics.min_n and period.history
MIN_N = 30
HISTORY = 13
MONTHS = [str(p) for p in pd.period_range(end="2026-09", periods=HISTORY, freq="M")]


def csat_by_queue_and_month(demo_dir: Path) -> pd.DataFrame:
    """Share of 4s and 5s among the 1-5 ratings, per queue and Berlin month (None under
    the minimum n), straight from the raw survey file."""
    rows = pd.read_csv(demo_dir / "csat_responses.csv")
    rows = rows[rows["rating"].between(1, 5)]
    local = pd.to_datetime(rows["responded_at"]).dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    rows = rows.assign(month=local.dt.strftime("%Y-%m"), good=rows["rating"] >= 4)
    grouped = rows.groupby(["queue", "month"])["good"]
    share = grouped.mean().where(grouped.size() >= MIN_N)
    return share.unstack().reindex(columns=MONTHS)


def test_scorecard_csat_equals_the_raw_responses_by_queue(demo_mqr, demo_dir):
    model, _ = demo_mqr
    expected = csat_by_queue_and_month(demo_dir)
    card = model.scorecard
    assert card is not None
    column = [c.metric_id for c in card.columns].index("csat")
    rows = {row.label: row.cells[column] for row in card.rows}
    assert set(expected.index) <= set(rows)
    for queue, months in expected.iterrows():
        cell = rows[queue]
        now, before = months["2026-09"], months["2026-08"]
        if pd.isna(now):
            assert cell.value is None and cell.value_text == "—", queue
            continue
        assert cell.value == pytest.approx(now), queue
        assert cell.value_text == f"{now * 100:.1f}%", queue
        if not pd.isna(before):
            assert cell.delta == pytest.approx(now - before), queue
        assert cell.sparkline is not None
        drawn = [None if v is None else pytest.approx(v) for v in cell.sparkline.values]
        assert drawn == [None if pd.isna(v) else v for v in months], queue


def test_the_scorecard_page_lists_every_queue_with_its_csat(demo_mqr_pdf, demo_dir):
    _, path = demo_mqr_pdf
    expected = csat_by_queue_and_month(demo_dir)["2026-09"]
    with pdfplumber.open(path) as pdf:
        pages = [p for p in pdf.pages if (p.extract_text() or "").split("\n")[1:2]
                 == ["Scorecard by queue"]]
        assert len(pages) == 1, "one scorecard page"
        page = pages[0]
        text = page.extract_text()
        assert "CSAT" in text and "QA score" in text and "Tickets created" in text
        lines = page.extract_text_lines()
        for queue, share in expected.items():
            label = next(line for line in lines if line["text"].startswith(queue))
            middle = (label["top"] + label["bottom"]) / 2
            # the row's cells stand beside the label: within one row's height of its middle
            row = " ".join(w["text"] for w in page.extract_words()
                           if abs((w["top"] + w["bottom"]) / 2 - middle) < 12)
            shown = "—" if pd.isna(share) else f"{share * 100:.1f}%"
            assert shown in row.split(), (queue, row)


def test_the_status_legend_is_on_the_summary_once(demo_mqr):
    _, pages = demo_mqr
    assert sum(page.count("No target") for page in pages) == 1
    summary = next(i for i, page in enumerate(pages) if "Executive summary\n" in page
                   and "Key findings" in page)
    assert "On target At risk Off target No target" in pages[summary]


def test_summary_tiles_draw_their_thirteen_month_sparklines(demo_mqr_pdf):
    model, path = demo_mqr_pdf
    primary = model.theme.primary.lstrip("#")
    colour = tuple(round(int(primary[i:i + 2], 16) / 255, 3) for i in (0, 2, 4))
    with pdfplumber.open(path) as pdf:
        summary = next(p for p in pdf.pages if "Key findings" in (p.extract_text() or ""))
        lines = [c for c in summary.curves
                 if tuple(round(v, 3) for v in c.get("stroking_color") or ()) == colour]
    # one unbroken line of the last 13 months per headline tile (the demo misses no month)
    assert sorted(len(c["pts"]) for c in lines) == [HISTORY] * len(model.summary_kpis)
