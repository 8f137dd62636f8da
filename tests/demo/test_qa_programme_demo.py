"""The monthly report's QA-programme and 'What customers say' sections on the demo data:
the planted stories are found, reach the PDF, and no personal data does."""

from __future__ import annotations

import re
import sqlite3
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pdfplumber
import pytest

from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.build import build_report, render_outputs

NOW = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)
SEPTEMBER = Period.parse("2026-09", "month", "Europe/Berlin")


@pytest.fixture(scope="module")
def mqr(demo_mqr):
    """The example monthly report for September 2026: (model, PDF text)."""
    model, pages = demo_mqr
    return model, "\n".join(pages)


def _section(model, section_id: str):
    return next(s for s in model.sections if s.id == section_id)


def _september(demo_dir: Path, table: str, column: str) -> pd.DataFrame:
    with sqlite3.connect(demo_dir / "reportgen_demo.sqlite") as conn:
        frame = pd.read_sql(f"select * from {table}", conn)
    local = pd.to_datetime(frame[column]).dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    return frame.loc[(local >= SEPTEMBER.start_at) & (local < SEPTEMBER.end_at)]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_refund_policy_is_what_dissatisfied_customers_say(mqr, demo_dir):
    model, pdf_text = mqr
    themes = [f for f in (*model.findings, *_section(model, "customer-voice").findings)
              if f.kind == "customer_theme"]
    top = max(themes, key=lambda f: f.severity)
    assert top.scope == "theme = Refund policy"
    # counted here: September's dissatisfied comments that name the refund policy
    responses = _september(demo_dir, "csat_responses", "responded_at")
    unhappy = responses.loc[responses["rating"] < 4, "comment"].dropna()
    named = int(unhappy.str.casefold().str.contains("refund policy").sum())
    assert top.numbers["count"] == named >= 10
    assert top.numbers["satisfied_count"] == 0 and top.numbers["trend"] == "new"
    assert all("refund policy" in q.casefold() for q in top.numbers["quotes"])
    # 'refund' is said only as part of the phrase: not a theme of its own
    assert not any(f.numbers["term"] == "refund" for f in themes)
    quotes = [q for f in themes for q in f.numbers["quotes"]]
    assert len(quotes) == len(set(quotes))
    assert "What customers say" in pdf_text
    assert ("Customers who were dissatisfied often mention “refund policy”: "
            f"{named} of {len(unhappy)} comments") in _flat(pdf_text)
    assert "z =" not in _flat(pdf_text).split("Methodology and provenance Methodology")[0]


def test_disputes_on_correct_information_are_accepted_far_more_often(mqr, demo_dir):
    model, pdf_text = mqr
    disputes = _september(demo_dir, "qa_disputes", "raised_at").dropna(subset=["accepted"])
    own = disputes.loc[disputes["category"] == "Correct information", "accepted"]
    rest = disputes.loc[disputes["category"] != "Correct information", "accepted"]
    (finding,) = [f for f in _section(model, "qa-programme").findings
                  if f.kind == "dispute_outlier" and f.scope == "category = Correct information"]
    assert finding.numbers["rate"] == pytest.approx(own.mean())
    assert finding.numbers["rest"] == pytest.approx(rest.mean())
    assert own.mean() > 2 * rest.mean() and finding.numbers["p_adjusted"] < 0.05
    assert "Disputes on category 'Correct information' were accepted" in _flat(pdf_text)


def test_the_lenient_reviewer_and_weak_automatic_scoring_are_named(mqr):
    model, pdf_text = mqr
    findings = _section(model, "qa-programme").findings
    biased = [f for f in findings if f.kind == "reviewer_bias"]
    assert [f.scope for f in biased] == ["auditor = AU07"]
    assert biased[0].numbers["bias"] > 0.2
    # the automatic scorer's governance tells the 'Greeting & tone' story (the kappa of
    # auto_human_kappa stays computed for the methodology)
    (stand_in,) = [f for f in findings if f.kind == "autoqa_stand_in"]
    assert [i["item"] for i in stand_in.numbers["cannot_stand_in"]] == ["Greeting & tone"]
    flat = _flat(pdf_text)
    assert "Auditor AU07 rates generously" in flat
    assert "The automatic scorer can stand in for auditors on 6 of 7 rubric items" in flat
    assert "not on Greeting & tone (agreement" in flat


def test_no_customer_email_or_phone_reaches_the_pdf(mqr, demo_dir):
    _, pdf_text = mqr
    comments = _september(demo_dir, "csat_responses", "responded_at")["comment"].dropna()
    emails = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", " ".join(comments)))
    assert emails  # the demo comments do carry some
    flat = _flat(pdf_text)
    assert not any(e in flat for e in emails)
    # the demo's phone numbers all read '... 555 0123' (US) or '... 555 123' (Portugal)
    assert not re.search(r"555 \d{3,4}\b", flat)


def test_personal_data_in_every_unhappy_comment_is_masked_in_the_pdf(tmp_path):
    rows = ["responded_at,rating,comment"]
    for day in range(1, 29):
        rows.append(f"2026-09-{day:02d} 10:00:00,1,\"Refund refused! Mail jo.bloggs{day}@example.net "
                    f"or ring +44 20 7946 {day:04d}, ask for Mr. Grantham\"")
        rows.append(f"2026-09-{day:02d} 11:00:00,5,Great help thank you")
        rows.append(f"2026-08-{day:02d} 11:00:00,2,Slow answer")
    (tmp_path / "responses.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "report.yaml").write_text(textwrap.dedent("""
        id: voices
        title: Voices
        period: {grain: month, timezone: UTC, history: 3}
        sources:
          responses:
            kind: csv
            path: responses.csv
            time_column: responded_at
            columns: {rating: int, comment: str}
            pii: [comment]
        metrics:
          - id: themes
            label: Comments analysed
            calculator: comment_themes
            source: responses
            params: {min_count: 3, quotes: 2}
            min_n: 1
        sections:
          - {id: voc, title: What customers say, kpis: [themes]}
        privacy: {allow_pii: [comment]}
        outputs: [{format: pdf}]
        """))
    loaded = load_definition(tmp_path / "report.yaml")
    result = build_report(loaded, Period.parse("2026-09", "month", "UTC"), now=NOW)
    (pdf,) = render_outputs(loaded, result, tmp_path / "out")
    with pdfplumber.open(pdf.path) as document:
        flat = _flat(" ".join(page.extract_text() or "" for page in document.pages))
    assert "“Refund refused! Mail [e-mail] or ring [phone], ask for [name]”" in flat
    assert "@" not in flat and "7946" not in flat and "Grantham" not in flat
