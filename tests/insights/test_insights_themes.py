"""What dissatisfied customers say, as the PDF reads it: themes as phrases with their counts,
how their share moved since last month, distinct quotes, hostile text printed as text, and
the ranking statistic in the methodology's notes rather than in the sentence."""

from __future__ import annotations

import csv
import textwrap
from datetime import UTC, datetime

import pdfplumber
import pytest

from reportgen import text
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.build import build_report, render_outputs

NOW = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)
SEPTEMBER = Period.parse("2026-09", "month", "UTC")

# September's dissatisfied comments: six say "password reset" (a seventh only "password"),
# three "money back" (new: nobody said it in August), three carry hostile text.
PASSWORD = ["Password reset link never arrived", "The password reset failed again",
            "Password reset does nothing", "Tried the password reset twice",
            "Password reset screen is broken", "My password reset keeps failing",
            "Forgot my password"]
MONEY = ["Money back denied", "Money back please", "Money back never came"]
HOSTILE = ["<script>alert('x')</script> late delivery",
           "{{ 7 * 7 }} late delivery {% if x %}yes{% endif %}",
           "<b>late delivery</b> & more 😡"]
# August's: one of ten said "password reset".
AUGUST = ["Password reset failed", "Nobody answered", "Slow answer", "Waited a week",
          "Long queue", "Chat dropped", "App crashed", "Wrong answer", "Ticket closed",
          "Agent rude"]
HAPPY = ["Great help thank you", "Quick and friendly", "Solved on the first try"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(model, section page text, whole PDF text) of a one-section report on the corpus."""
    root = tmp_path_factory.mktemp("themes")
    with (root / "responses.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["responded_at", "rating", "comment"])
        for day, comment in enumerate(PASSWORD + MONEY + HOSTILE, start=1):
            out.writerow([f"2026-09-{day:02d} 10:00:00", 1 + day % 2, comment])
        for day, comment in enumerate(AUGUST, start=1):
            out.writerow([f"2026-08-{day:02d} 10:00:00", 1 + day % 2, comment])
        for day in range(1, 21):
            for month in ("08", "09"):
                out.writerow([f"2026-{month}-{day:02d} 11:00:00", 5, HAPPY[day % 3]])
    (root / "report.yaml").write_text(textwrap.dedent("""
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
            params: {min_count: 3, min_z: 0, quotes: 3}
            min_n: 1
        sections:
          - {id: voc, title: What customers say, kpis: [themes], findings: 5}
        privacy: {allow_pii: [comment]}
        outputs: [{format: pdf}]
        """))
    loaded = load_definition(root / "report.yaml")
    result = build_report(loaded, SEPTEMBER, now=NOW)
    (pdf,) = render_outputs(loaded, result, root / "out")
    with pdfplumber.open(pdf.path) as document:
        pages = [page.extract_text() or "" for page in document.pages]
    section = next(p for p in pages if "What customers say" in p and "Findings" in p)
    return result.model, _flat(section), _flat(" ".join(pages))


def _flat(said: str) -> str:
    return " ".join(said.split())


def _findings(model):
    """The themes' findings: the strongest leads the executive summary, the rest the section."""
    (section,) = [s for s in model.sections if s.id == "voc"]
    return {f.numbers["term"]: f for f in (*model.findings, *section.findings)
            if f.kind == "customer_theme"}


def test_the_phrase_is_the_theme_with_its_count_and_its_growth(report):
    model, _, whole = report
    found = _findings(model)
    assert "password" not in found and "reset" not in found
    dissatisfied = len(PASSWORD + MONEY + HOSTILE)
    said = (f"Customers who were dissatisfied often mention “password reset”: "
            f"6 of {dissatisfied} comments ({text.share(6 / dissatisfied)}), up from "
            f"{text.share(1 / len(AUGUST))} in August 2026: a growing theme.")
    assert said in whole  # the strongest theme leads the executive summary
    assert found["password reset"].tag == "Password reset theme"
    assert "Key findings Password reset theme Customers who were dissatisfied" in whole


def test_a_phrase_nobody_used_last_month_is_new(report):
    _, page, _ = report
    dissatisfied = len(PASSWORD + MONEY + HOSTILE)
    assert (f"often mention “money back”: 3 of {dissatisfied} comments "
            f"({text.share(3 / dissatisfied)}); none of their comments mentioned it in "
            f"August 2026: a new theme.") in page


def test_the_ranking_statistic_is_a_note_not_part_of_the_sentence(report):
    model, page, whole = report
    found = _findings(model)
    assert "z =" not in page and "(log-odds" not in whole
    top = found["password reset"]
    assert top.note > 0
    satisfied = 20  # the corpus's September 5 ratings
    assert top.detail == (f"log-odds z = {text.decimal(top.numbers['z'], 1)} against the "
                          f"{satisfied} satisfied comments, 0 of which mention it")
    note = next(n for n in model.stat_notes if n.number == top.note)
    assert note.label == "Comments analysed, Password reset theme"
    assert f"{top.note}. Comments analysed, Password reset theme: log-odds z =" in whole


def test_quotes_are_distinct_and_hostile_text_is_printed_as_written(report):
    model, page, _ = report
    quotes = [q for f in _findings(model).values() for q in f.numbers["quotes"]]
    assert quotes and len(quotes) == len(set(quotes))
    for hostile in HOSTILE:
        assert f"“{hostile}”" in page  # escaped: tags and template syntax shown, not run
    assert "49" not in page
