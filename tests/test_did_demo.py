"""The demo's coaching programme, compared with a queue that was not coached, reaches the
monthly report's PDF as a difference in differences."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pdfplumber
import pytest

from reportgen.period import Period
from reportgen.pipeline import build_report, render_outputs
from reportgen.plan import load_definition

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)
SEPTEMBER = Period.parse("2026-09", "month", "Europe/Berlin")


@pytest.fixture(scope="module")
def mqr(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The example monthly report for September 2026: (model, PDF text on one line)."""
    root = tmp_path_factory.mktemp("mqr-did")
    (root / "configs").mkdir()
    (root / "out").mkdir()
    (root / "out" / "demo").symlink_to(demo_dir, target_is_directory=True)
    shutil.copy(REPO / "configs" / "monthly_quality_report.yaml", root / "configs" / "mqr.yaml")
    loaded = load_definition(root / "configs" / "mqr.yaml")
    result = build_report(loaded, SEPTEMBER, now=NOW)
    (pdf,) = render_outputs(loaded, result, root / "render")
    with pdfplumber.open(pdf.path) as document:
        text = " ".join(page.extract_text() or "" for page in document.pages)
    return result.model, re.sub(r"\s+", " ", text)


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
    assert numbers["p_value"] < 0.001


def test_the_difference_in_differences_is_in_the_pdf(mqr) -> None:
    _, text = mqr
    match = re.search(r"QA score rose (\d+\.\d) points more in Onboarding \(\+(\d+\.\d) points\) "
                      r"than in Account Access \(.(\d+\.\d) points\) after the change "
                      r"\(95% CI (\d+\.\d) to (\d+\.\d) points\)", text)
    assert match is not None, "the coaching readout is not in the PDF"
    effect, treated, _, low, high = (float(g) for g in match.groups())
    assert low < effect < high and treated > effect - 2.0
    # the test result is a numbered note, not body text
    assert "Onboarding queue: difference in differences, p <" in text
