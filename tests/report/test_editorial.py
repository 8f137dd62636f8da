"""The demo readout a director forwards unedited: a one-page summary, plain words, every
sentence once, statistics in the appendix, and an action register with its KPI movements."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
from pptx import Presentation
from support.demo_models import demo_model

from reportgen import text
from reportgen.insights.text import (
    REAL_DIFFERENCE,
    plain_sentence,
    scope_phrase,
    scope_tag,
    split_statistics,
)
from reportgen.report.editorial import SUMMARY_MAX, summary_findings
from reportgen.report.model.sections import Finding
from reportgen.text import value_label

P_TEXT = re.compile(r"\bp [=<] ")
APPENDIX = "Methodology and provenance"


def plain(text: str) -> str:
    """Text as read, whatever the line breaks (a line may end after an interval's dash)."""
    return re.sub(r"([\u2013-])\s+", r"\1", re.sub(r"\s+", " ", text)).strip()


@pytest.fixture(scope="module")
def mqr(demo_mqr_pdf, demo_mqr):
    """The example monthly report's model, its PDF's text page by page, and the PDF."""
    (model, pdf), (_, pages) = demo_mqr_pdf, demo_mqr
    return model, pages, pdf


def appendix_start(pages: list[str]) -> int:
    """Index of the methodology page (the heading, not the contents' entry on the cover)."""
    return next(i for i, page in enumerate(pages) if i > 0 and APPENDIX in page
                and "Definition" in page)


def test_the_executive_summary_fits_page_two(mqr) -> None:
    model, pages, _ = mqr
    summary = plain(pages[1])
    assert "Executive summary" in summary and "Key findings" in summary
    for kpi in model.summary_kpis:
        for shown in (kpi.value_text, kpi.delta_text, kpi.significance_text):
            assert plain(shown) in summary, shown
    assert 0 < len(model.findings) <= SUMMARY_MAX
    for finding in model.findings:
        assert plain(finding.sentence) in summary, finding.sentence
    assert "Executive summary" not in plain(pages[2])  # nothing of it ran over


def test_the_summary_tells_each_metric_once(mqr) -> None:
    model, _, _ = mqr
    metrics = [f.metric_id for f in model.findings]
    assert len(metrics) == len(set(metrics))
    assert ("csat", "queue = Billing") in {(f.metric_id, f.scope) for f in model.findings}


def test_no_p_value_outside_the_appendix(mqr) -> None:
    model, pages, _ = mqr
    start = appendix_start(pages)
    body = [i + 1 for i, page in enumerate(pages[:start]) if P_TEXT.search(page)]
    assert body == []
    appendix = plain(" ".join(pages[start:]))
    assert "Statistical notes" in appendix
    assert model.stat_notes and all(n.detail for n in model.stat_notes)
    assert P_TEXT.search(appendix)  # the tests moved there, they did not vanish


def test_no_finding_sentence_is_printed_twice(mqr) -> None:
    model, pages, _ = mqr
    document = plain(" ".join(pages))
    sentences = [f.sentence for f in model.findings] + \
        [f.sentence for s in model.sections for f in s.findings]
    assert sentences and Counter(sentences).most_common(1)[0][1] == 1
    for sentence in sentences:
        assert document.count(plain(sentence)) == 1, sentence
    # the explanations of the headline move do not restate it
    assert sum(s.startswith("CSAT fell 3.7 points") for s in sentences) == 1
    assert any(s.startswith("Mostly changes within") for s in sentences)


def test_no_significant_change_is_said_once_per_section_not_as_findings(mqr) -> None:
    model, pages, _ = mqr
    kinds = {f.kind for f in model.findings} | {f.kind for s in model.sections for f in s.findings}
    assert "no_significant_change" not in kinds
    qa = next(s for s in model.sections if s.id == "qa")
    assert "QA score" in qa.steady_text and "within normal variation" in qa.steady_text
    assert plain(qa.steady_text) in plain(" ".join(pages))


def test_tags_and_values_read_as_people_talk(mqr) -> None:
    model, pages, _ = mqr
    document = plain(" ".join(pages[: appendix_start(pages)]))
    assert "Billing queue" in document
    assert "queue = " not in document and "agent ids" not in document
    tags = {f.tag for f in model.findings} | {f.tag for s in model.sections for f in s.findings}
    assert {"Billing queue", "Correct information category", "Auditor AU07"} <= tags
    assert not any("=" in tag or "_" in tag for tag in tags)


def test_a_section_lists_the_findings_its_definition_allows(mqr) -> None:
    from reportgen.definition.content_specs import SECTION_FINDINGS, SectionSpec

    model, _, _ = mqr
    allowed = {"customer-voice": 2, "qa-programme": 5, "audit-design": 5, "trust-safety": 2}
    for section in model.sections:
        assert len(section.findings) <= allowed.get(section.id, SECTION_FINDINGS), section.id
    told = {s.id: len(s.findings) for s in model.sections}
    assert {k: told[k] for k in allowed} == allowed  # each tells as many stories as it may
    assert SectionSpec(id="s", title="S").findings == SECTION_FINDINGS == 3


def test_the_demo_pdf_is_about_fifteen_pages(mqr) -> None:
    _, pages, _ = mqr
    # 15 pages of readout, and the scorecard of queues on a page of its own
    assert 12 <= len(pages) <= 16, len(pages)
    cover = plain(pages[0])  # the contents are on the cover, whatever the number of sections
    assert "contents" in cover.casefold() and "Methodology and provenance" in cover


def kpi_column(pdf: Path) -> tuple[str, str]:
    """The actions page's text, and the text of its "Tracked KPI" column alone."""
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            header = page.search("Tracked KPI")
            if header:
                column = page.crop((header[0]["x0"] - 1, 0, page.width, page.height))
                return plain(page.extract_text()), plain(column.extract_text())
    raise AssertionError("no actions table")


def test_the_actions_section_flags_overdue_and_tracks_the_kpi(mqr) -> None:
    model, _, pdf = mqr
    register = model.actions
    assert register is not None
    overdue = [i for i in register.items if i.overdue]
    assert {i.id for i in overdue} == {"ACT-1", "ACT-3"}  # due in September, still open
    billing = next(i for i in register.items if i.id == "ACT-1")
    # tracked at its own scope (queue = Billing): the queue's row, August against September
    row = next(r for r in model.metrics["csat"].breakdowns["queue"] if r.key == ("Billing",))
    assert row.change is not None and row.value is not None and row.change.previous is not None
    assert billing.movement_text.startswith("CSAT for the Billing queue fell ")
    assert (f"{text.value(row.change.previous, 'percent')} in August 2026, "
            f"{text.value(row.value, 'percent')} now") in billing.movement_text
    actions, kpis = kpi_column(pdf)
    assert "Overdue" in actions and plain(billing.movement_text) in kpis
    assert register.unowned and "Needs an owner" in actions


def test_the_deck_has_wins_risks_initiatives_and_asks(demo_dir: Path,
                                                      demo_qbr_outputs: Path) -> None:
    model = demo_model(demo_dir, "qbr.yaml", "2026-Q3")
    deck = Presentation(str(next(demo_qbr_outputs.rglob("*.pptx"))))
    slides = {s.shapes.title.text: s for s in deck.slides if s.shapes.title is not None}
    assert {"Wins", "Risks", "Initiatives", "Asks: decisions needed"} <= set(slides)

    def body(title: str) -> str:
        return " ".join(sh.text_frame.text for sh in slides[title].shapes
                        if sh.has_text_frame and sh is not slides[title].shapes.title)

    assert "Onboarding coaching programme" in body("Wins")
    assert "CSAT" in body("Risks")
    assert "Rewrite the refund macros" in body("Initiatives") and "(overdue)" in body("Initiatives")
    asks = body("Asks: decisions needed")
    assert asks.count("Decide:") == len(model.readout.asks) >= 2
    assert "past its due date" in asks


# --- the wording rules on their own -----------------------------------------------------

def test_statistics_leave_the_sentence_and_the_sample_size_stays() -> None:
    body, detail = split_statistics(
        "QA score rose 7.8 points, from 78.6 before (n = 594) to 86.4 after (n = 240; "
        "p < 0.001, a medium effect).")
    assert body == "QA score rose 7.8 points, from 78.6 before (n = 594) to 86.4 after (n = 240)."
    assert detail == "p < 0.001, a medium effect"
    sentence, note = plain_sentence("CSAT fell 3.7 points (p = 0.024).", True)
    assert (sentence, note) == ("CSAT fell 3.7 points: a real change, not noise.", "p = 0.024")
    assert plain_sentence("NPS was 34 (p = 0.49).", False)[0] == \
        "NPS was 34: within normal variation."
    assert plain_sentence("No test here.", None) == ("No test here.", "")
    assert plain_sentence("Skipped tickets are longer (p = 0.002).", True,
                          real=REAL_DIFFERENCE)[0] == \
        "Skipped tickets are longer: more than chance would explain."
    # the words close the sentence that was tested, not the one after it
    assert plain_sentence("The sample over-represents chat (p = 0.001). Reweighted, the pass "
                          "rate is 61.0% (n = 692).", True, real=REAL_DIFFERENCE)[0] == \
        ("The sample over-represents chat: more than chance would explain. Reweighted, the pass "
         "rate is 61.0% (n = 692).")


def test_scope_tags_and_value_labels() -> None:
    assert scope_tag("queue = Billing") == "Billing queue"
    assert scope_tag("channel = chat") == "Chat channel"
    assert scope_tag("policy_area = hate_speech") == "Hate speech policy area"
    assert scope_tag("auditor = AU07") == "Auditor AU07"
    assert scope_tag("agent_id = A072") == "Agent A072"
    assert scope_tag("by queue,category") == "By queue and category"
    assert scope_tag("queue = Shipping, category = Correct information") == \
        "Shipping queue · Correct information category"
    assert scope_tag("overall") == ""
    assert scope_tag("rubric items") == ""  # names no segment: the sentence says what it is
    assert value_label("hate_speech") == "Hate speech"
    # an intervention's scope inside a sentence, not as a filter
    assert scope_phrase({"queue": "Onboarding"}) == " for the Onboarding queue"
    assert scope_phrase({"queue": ["Billing", "Payments"]}) == " for the Billing and Payments queues"
    assert scope_phrase({"agent_id": "A072"}) == " for agent A072"
    assert value_label("Correct information") == "Correct information"
    assert value_label("AU07") == "AU07"


def _finding(metric: str, severity: float, kind: str = "significant_change") -> Finding:
    return Finding(kind=kind, metric_id=metric, scope="overall",
                   sentence=f"{metric} {severity}", severity=severity)


def test_summary_takes_one_finding_per_metric_and_at_most_five() -> None:
    ranked = [_finding("csat", 90), _finding("csat", 80), _finding("qa", 70),
              _finding("nps", 60, "no_significant_change"), _finding("frt", 50),
              _finding("sla", 40), _finding("aht", 30), _finding("fcr", 20), _finding("x", 10)]
    assert [f.sentence for f in summary_findings(ranked, 3)] == ["csat 90", "qa 70", "frt 50"]
    assert [f.sentence for f in summary_findings(ranked, 20)] == \
        ["csat 90", "qa 70", "frt 50", "sla 40", "aht 30"]
    assert summary_findings(ranked, 0) == ()


def test_a_summary_without_findings_says_the_headline_held_steady(mqr) -> None:
    from dataclasses import replace

    from support.factories import sample_metric, sample_model

    from reportgen.render.pdf_templates import render_html, template_search_path
    from reportgen.report.editorial import steady_text

    model, _, _ = mqr
    assert model.findings and model.steady_text == ""  # findings speak for themselves
    loud = sample_metric()
    quiet = replace(loud, change=replace(loud.change, p_value=0.31, significant=False))
    assert steady_text([loud]) == ""
    sentence = steady_text([quiet])
    assert sentence.startswith("CSAT moved within normal variation")
    page = render_html(replace(sample_model(), findings=(), steady_text=sentence),
                       template_search_path(None))
    summary = page[page.index('id="summary"'):page.index("</section>", page.index('id="summary"'))]
    assert sentence in summary and "Key findings" not in summary
