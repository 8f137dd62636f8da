"""The QA-programme stories planted in the demo data, as the monthly report tells them.

Each story is told by findings the PDF prints: their sentences are read back from the pages,
what they say is checked against the data the story planted, and a story takes one page or
less (from the top of its first finding to the bottom of its last), in a report that stays
within the readout's page budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pdfplumber
import pytest

from reportgen.report.model.sections import Finding

#: story -> the finding kinds that tell it (each exactly once in the report)
STORIES: dict[str, tuple[str, ...]] = {
    "audit_skips_long_chat": ("audit_skips", "audit_mix"),
    "general_audit_shortfall": ("audit_shortfall",),
    "autoqa_kept_apart": ("autoqa_stand_in", "autoqa_iqs"),
    "resolution_predicts_recontact": ("rubric_validity", "rubric_retire"),
    "moderation_quality": ("moderation_quality",),
    "csat_year_projection": ("target_projection",),
    "billing_refund_contacts_unusual": ("anomaly",),
}


def _flat(text: str) -> str:
    """Text without any whitespace: a sentence matches however the page wrapped it."""
    return re.sub(r"\s+", "", text)


class Pages:
    """The PDF's words with their positions, searchable whatever the line breaks."""

    def __init__(self, path: Path):
        with pdfplumber.open(path) as document:
            self.height = float(document.pages[0].height)
            self.words = [page.extract_words() for page in document.pages]
        self.text = ["".join(w["text"] for w in words) for words in self.words]

    def __len__(self) -> int:
        return len(self.words)

    def find(self, sentence: str) -> list[tuple[int, float, float]]:
        """Every place ``sentence`` is printed whole: (page index, top, bottom)."""
        needle = _flat(sentence)
        found = []
        for index, (words, text) in enumerate(zip(self.words, self.text, strict=True)):
            ends = []
            position = 0
            for word in words:
                position += len(word["text"])
                ends.append(position)
            start = text.find(needle)
            while start >= 0:
                first = next(i for i, end in enumerate(ends) if end > start)
                last = next(i for i, end in enumerate(ends) if end >= start + len(needle))
                found.append((index, float(words[first]["top"]), float(words[last]["bottom"])))
                start = text.find(needle, start + 1)
        return found


@pytest.fixture(scope="module")
def report(demo_mqr_pdf):
    model, path = demo_mqr_pdf
    return model, Pages(path)


def _findings(model, kinds: Sequence[str]) -> list[Finding]:
    shown = [*model.findings, *(f for s in model.sections for f in s.findings)]
    return [f for kind in kinds for f in shown if f.kind == kind]


def _told(model, pages: Pages, story: str) -> list[tuple[Finding, tuple[int, float, float]]]:
    """The story's findings, each printed once, in reading order."""
    findings = _findings(model, STORIES[story])
    assert [f.kind for f in findings] == list(STORIES[story]), story
    placed = []
    for finding in findings:
        where = pages.find(finding.sentence)
        assert len(where) == 1, (story, finding.sentence, where)
        placed.append((finding, where[0]))
    return sorted(placed, key=lambda item: item[1][:2])


def test_the_report_keeps_to_the_page_budget(report) -> None:
    _, pages = report
    assert 12 <= len(pages) <= 15


@pytest.mark.parametrize("story", sorted(STORIES))
def test_each_story_takes_one_page_or_less(report, story: str) -> None:
    model, pages = report
    placed = _told(model, pages, story)
    (first_page, top, _), (last_page, _, bottom) = placed[0][1], placed[-1][1]
    if first_page == last_page:
        extent = bottom - top
    else:
        assert last_page == first_page + 1, (story, first_page, last_page)
        extent = pages.height - top + bottom
    assert extent <= pages.height, (story, extent)


def test_reviewers_turn_down_long_chat_tickets_and_the_audits_under_represent_chat(report):
    model, pages = report
    placed = dict((f.kind, f) for f, _ in _told(model, pages, "audit_skips_long_chat"))
    skips, mix = placed["audit_skips"], placed["audit_mix"]
    assert skips.numbers["significant"] and skips.numbers["claim"] == "difference"
    assert {c["column"] for c in skips.numbers["columns"] if c["differs"]} == \
        {"channel", "handle_minutes"}
    assert "Skipped tickets are more often Chat" in skips.sentence
    assert "are longer than audited ones (median" in skips.sentence
    assert " minutes against " in skips.sentence and ": a real difference, not noise." in \
        skips.sentence
    assert not mix.numbers["representative"] and mix.numbers["under"] == ["chat"]
    # chat passes about as often as the rest: reweighting hardly moves the pass rate
    moved = mix.numbers["reweighted"]["value"] - mix.numbers["unweighted"]["value"]
    assert abs(moved) < 0.01
    assert "under-represents Chat" in mix.sentence and "Reweighted to all tickets' mix" in \
        mix.sentence


def test_general_is_audited_too_few_times(report) -> None:
    model, pages = report
    ((shortfall, _),) = _told(model, pages, "general_audit_shortfall")
    assert [g["group"] for g in shortfall.numbers["named"]] == ["General"]
    (named,) = shortfall.numbers["named"]
    assert named["audits"] < named["required"]
    assert shortfall.sentence.startswith(f"General was audited {named['audits']} times in "
                                         "September 2026")


def test_automatic_scores_stand_in_except_greeting_and_unconfirmed_ones_are_kept_apart(report):
    model, pages = report
    placed = dict((f.kind, f) for f, _ in _told(model, pages, "autoqa_kept_apart"))
    stand_in, iqs = placed["autoqa_stand_in"], placed["autoqa_iqs"]
    assert [i["item"] for i in stand_in.numbers["cannot_stand_in"]] == ["Greeting & tone"]
    assert len(stand_in.numbers["stands_in"]) == 6
    numbers = iqs.numbers
    assert numbers["confirmed_scores"] > 0 and numbers["kept_apart"] > numbers["confirmed_scores"]
    assert numbers["all_counted_iqs"] <= numbers["human_iqs"] - 4
    assert numbers["confirmed_iqs"] < numbers["human_iqs"]
    assert iqs.sentence.startswith("IQS from reviewers' own ratings was ")
    assert "automatic ratings no reviewer confirmed were kept apart" in iqs.sentence


def test_resolution_predicts_recontacts_and_csat(report) -> None:
    model, pages = report
    placed = dict((f.kind, f) for f, _ in _told(model, pages, "resolution_predicts_recontact"))
    validity, retire = placed["rubric_validity"], placed["rubric_retire"]
    recontact = next(e for e in validity.numbers["effects"] if e["outcome"] == "recontacted_7d")
    assert recontact["high"] < 0  # higher QA scores, fewer customers back within 7 days
    assert "re-contact within 7 days" in validity.sentence and "less often" in validity.sentence
    assert retire.numbers["predicts"] == {"Resolution": ["re-contact within 7 days", "CSAT"]}
    assert "Items that predict outcomes: Resolution (re-contact within 7 days and CSAT)" in \
        retire.sentence


def test_moderation_decisions_are_checked_against_gold_labels(report) -> None:
    model, pages = report
    ((quality, _),) = _told(model, pages, "moderation_quality")
    assert quality.sentence.startswith("Moderation decisions checked against gold labels in "
                                       "September 2026: precision ")
    assert "clustered by moderator" in quality.sentence


def test_the_summary_says_csat_will_miss_its_target_for_the_year(report) -> None:
    model, pages = report
    ((projection, (page, _, _)),) = _told(model, pages, "csat_year_projection")
    assert page == 1 and projection in model.findings  # the executive summary
    assert projection.numbers["status"] == "unlikely" and projection.numbers["high"] < 0.85
    assert projection.sentence.startswith("Yearly CSAT is unlikely to reach its 85.0% target "
                                          "for 2026: projected at ")


def test_billing_refund_contacts_are_unusual_for_the_time_of_year(report) -> None:
    model, pages = report
    ((anomaly, _),) = _told(model, pages, "billing_refund_contacts_unusual")
    band = model.metrics["refund_contacts"].details["anomaly"]
    assert band["outside"] and band["value"] > band["high"] and band["periods"] == 35
    assert len(model.metrics["refund_contacts"].history) == 36  # its own three years
    assert len(model.metrics["csat"].history) == 13  # the report's thirteen months
    assert anomaly.sentence.startswith("Billing refund volume was unusually high in September "
                                       "2026: ")
    assert "from a seasonal baseline of 35 months with a trend" in anomaly.sentence
