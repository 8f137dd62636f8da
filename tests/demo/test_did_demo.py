"""The demo's coaching programme, compared with a queue that was not coached, reaches the
monthly report's PDF as a difference in differences."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="module")
def mqr(demo_mqr):
    """The example monthly report for September 2026: (model, PDF text on one line)."""
    model, pages = demo_mqr
    return model, re.sub(r"\s+", " ", " ".join(pages))


def test_the_coaching_effect_is_read_against_the_uncoached_queue(mqr) -> None:
    model, _ = mqr
    shown = [*model.findings, *(f for s in model.sections for f in s.findings)]
    found = [f for f in shown if f.kind == "intervention" and f.metric_id == "qa_score"]
    assert len(found) == 1
    numbers = found[0].numbers
    assert numbers["design"] == "difference_in_differences"
    assert numbers["control"] == {"column": "queue", "values": ["Account Access"]}
    assert numbers["status"] == "effect_vs_control" and found[0].direction == "improved"
    # reportgen.demo plants a lift of about 6 points in Onboarding only, from the coaching date
    assert 3.0 < numbers["did"] < 12.0 and 0.0 < numbers["low"] < numbers["high"]
    assert abs(numbers["control_change"]) < 2.0
    # audits of one agent are correlated, so the test is clustered by agent: about 0.004
    assert numbers["p_value"] < 0.01


def test_the_difference_in_differences_is_in_the_pdf(mqr, demo_mqr_pdf) -> None:
    _, text = mqr
    _, pdf = demo_mqr_pdf
    match = re.search(r"QA score rose (\d+\.\d) points more in Onboarding \(\+(\d+\.\d) points\) "
                      r"than in Account Access \(.(\d+\.\d) points\) after the change "
                      r"\(95% CI (\d+\.\d) to (\d+\.\d) points\)", text)
    assert match is not None, "the coaching readout is not in the PDF"
    effect, treated, _, low, high = (float(g) for g in match.groups())
    assert low < effect < high and treated > effect - 2.0
    # the test result is a numbered note, not body text; the notes are set in two columns,
    # so they are read column by column
    assert re.search(r"Onboarding queue: difference in differences, p [<=] 0\.0",
                     _in_columns(pdf))


def _in_columns(path) -> str:
    """The PDF's text read down the left half of each page, then down the right half."""
    import pdfplumber

    parts = []
    with pdfplumber.open(path) as document:
        for page in document.pages:
            middle = float(page.width) / 2
            for box in ((0, 0, middle, page.height), (middle, 0, page.width, page.height)):
                parts.append(page.crop(box).extract_text() or "")
    return re.sub(r"\s+", " ", " ".join(parts))
