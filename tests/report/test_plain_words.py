"""The body of the demo reports speaks plainly: statistics' names live in the appendix.

Each test reads a rendered PDF (the monthly report and the quarterly deck's PDF) page by
page; the body is every page before the one the appendix ("Methodology and provenance")
starts on.  None of the statistics' names, symbols or ISO week labels may appear there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest

APPENDIX = "Methodology and provenance"

#: What a director should not have to read, with the pattern that finds it.
JARGON: dict[str, re.Pattern[str]] = {
    "z": re.compile(r"(?<![\w-])z\s*[=<>]"),
    "p": re.compile(r"(?<![\w-])p\s*[=<>]\s*\d"),
    "kappa": re.compile(r"kappa", re.I),
    "Krippendorff": re.compile(r"Krippendorff", re.I),
    "Wilson": re.compile(r"\bWilson\b"),
    "Student": re.compile(r"\bStudent\b"),
    "α": re.compile(r"α"),
    "MAD": re.compile(r"(?<![A-Za-z])MAD(?![a-z])"),
    "Gwet": re.compile(r"Gwet"),
    "AC1": re.compile(r"\bAC[12]\b"),
    "p-chart": re.compile(r"p-chart", re.I),
    "p-value": re.compile(r"p-value", re.I),
    "ISO week": re.compile(r"\b\d{4}-W\d{2}\b"),
}


def body_pages(pdf: Path) -> list[str]:
    """The text of each page before the appendix's first page (the contents page, which
    lists the appendix with its page number, is body)."""
    with pdfplumber.open(pdf) as document:
        # a tolerance of 1 keeps the spaces of a chart's small labels ("average gap 10.5")
        pages = [page.extract_text(x_tolerance=1) or "" for page in document.pages]
    starts = [i for i, page in enumerate(pages)
              if any(line.strip() == APPENDIX for line in page.splitlines())]
    assert starts, f"no page of {pdf.name} opens the appendix"
    return pages[:starts[0]]


def jargon_on(pages: list[str]) -> dict[str, list[int]]:
    """Per term, the (1-based) pages of the body it appears on."""
    found: dict[str, list[int]] = {}
    for number, page in enumerate(pages, start=1):
        flat = " ".join(page.split())
        for term, pattern in JARGON.items():
            if pattern.search(flat):
                found.setdefault(term, []).append(number)
    return found


def test_the_jargon_finder_finds_each_term() -> None:
    """The patterns catch the words they are for (so a zero below means something)."""
    samples = {"z": "against 0 satisfied (z = 3.2)", "p": "(p = 0.024)",
               "kappa": "Cohen's kappa 0.41", "Krippendorff": "Krippendorff's alpha",
               "Wilson": "95% Wilson intervals", "Student": "Student t intervals",
               "α": "(α = 0.05)", "MAD": "n = 19 · MAD 10.5", "Gwet": "Gwet's AC1",
               "AC1": "AC1 of 0.8", "p-chart": "a p-chart of CSAT",
               "p-value": "its p-value", "ISO week": "week 2025-W36"}
    for term, sample in samples.items():
        assert term in jargon_on([sample]), term
    assert jargon_on(["Whiskers: 95% intervals. * a real change since August 2026. "
                      "Auditor agreement 0.66; average gap 10.5; zone = 3"]) == {}


def test_the_monthly_report_body_has_no_statistics_jargon(demo_mqr_pdf) -> None:
    _, pdf = demo_mqr_pdf
    pages = body_pages(pdf)
    assert len(pages) > 5  # the body is most of the report
    assert jargon_on(pages) == {}
    body = " ".join(" ".join(pages).split())
    # the plain words stand where the names were
    assert "Whiskers: 95% intervals." in body
    assert "Auditor agreement" in body
    assert "average gap" in body
    assert "* a real change since August 2026." in body
    # the appendix still names the statistics
    with pdfplumber.open(pdf) as document:
        appendix = " ".join((page.extract_text(x_tolerance=1) or "")
                            for page in document.pages[len(pages):])
    assert "Wilson" in appendix and "Krippendorff" in appendix


def test_the_monthly_report_names_each_role_once(demo_mqr_pdf) -> None:
    """The people who score QA reviews are auditors throughout, never reviewers; a
    difference between groups is not called a change."""
    _, pdf = demo_mqr_pdf
    body = " ".join(" ".join(body_pages(pdf)).split())
    assert re.search(r"\breviewers?\b", body, re.I) is None
    assert "Auditor AU07" in body
    sentences = re.split(r"(?<=\.) ", body)
    for sentence in sentences:
        if "than the calibrator" in sentence or "above the calibrator" in sentence \
                or "than the other" in sentence:
            assert "a real change" not in sentence, sentence


def tile_text(pdf: Path, label: str) -> str:
    """The text of the KPI tile headed ``label``: the page region below the label, as wide
    as a tile of a two-column grid."""
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            found = page.search(label)
            if found:
                top, left = found[0]["top"], found[0]["x0"]
                box = (max(0, left - 4), top, min(page.width, left + page.width * 0.4),
                       min(page.height, top + 130))
                return " ".join((page.crop(box).extract_text(x_tolerance=1) or "").split())
    raise AssertionError(f"no tile headed {label!r}")


def test_score_tiles_state_their_scale(demo_mqr_pdf) -> None:
    """Customer effort, a 1-7 mean, says its scale and good end, and moves in plain steps,
    not percentage points."""
    model, pdf = demo_mqr_pdf
    ces = model.metrics["ces"]
    assert ces.scale is not None and (ces.scale.low, ces.scale.high) == (1, 7)
    assert ces.change is not None and ces.change.delta is not None
    tile = tile_text(pdf, "Customer effort")
    assert "1–7 scale, higher is easier" in tile
    minus = "\u2212"
    moved = f"{'+' if ces.change.delta > 0 else minus}{abs(ces.change.delta):.1f}"
    assert f"{moved} vs {ces.change.against}" in tile
    assert "pts" not in tile


@pytest.fixture(scope="module")
def qbr_pdf(demo_qbr_outputs: Path) -> Path:
    return next(demo_qbr_outputs.rglob("*.pdf"))


def test_the_quarterly_report_body_has_no_statistics_jargon(qbr_pdf: Path) -> None:
    pages = body_pages(qbr_pdf)
    assert len(pages) > 3
    assert jargon_on(pages) == {}
