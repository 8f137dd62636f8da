"""One KPI reads the same everywhere: PDF, deck, e-mail and the sentences beside it.

The demo reports are built once and rendered by the real renderers; each output is read
back the way a reader gets it (pdfplumber, python-pptx, the e-mail bodies).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pdfplumber
import pytest
from pptx import Presentation
from support.demo_models import demo_model

from reportgen import text
from reportgen.delivery.content import MailContent, render_bodies
from reportgen.render.pdf import render_pdf
from reportgen.render.pptx_tables import SCORECARD_HEADERS
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import Kpi

pytestmark = pytest.mark.slow

_P_TEXT = re.compile(r"p [=<] [0-9.,]+")


def rgb(hex_colour: str) -> tuple[float, ...]:
    """``#1A7F4B`` as the 0-1 fractions a PDF stores."""
    value = hex_colour.lstrip("#")
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))


def same_colour(pdf_colour, hex_colour: str) -> bool:
    return pdf_colour is not None and len(pdf_colour) == 3 and all(
        abs(a - b) < 0.01 for a, b in zip(pdf_colour, rgb(hex_colour), strict=True))


def plain(value: str) -> str:
    """Text with no-break spaces as ordinary ones (PDF text extraction does not keep them)."""
    return value.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")


@pytest.fixture(scope="module")
def qbr(demo_dir: Path, demo_qbr_outputs: Path):
    """The demo QBR for Q3 2026, one model rendered as PDF, deck and e-mail."""
    model = demo_model(demo_dir, "qbr.yaml", "2026-Q3")
    pdf, deck = next(demo_qbr_outputs.rglob("*.pdf")), next(demo_qbr_outputs.rglob("*.pptx"))
    text_body, html_body = render_bodies(MailContent.from_model(model), ["qbr.pdf"])
    return model, pdf, deck, text_body, html_body


def summary_page(pdf: Path, model: ReportModel):
    """The executive summary page (open while the caller reads it)."""
    lead = f"{model.period.label} compared with {model.period.previous_label}."
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            if lead in (page.extract_text() or ""):
                yield page
                return
    raise AssertionError("no executive summary page")


def test_the_demo_qbr_has_kpis_of_every_kind(qbr) -> None:
    model = qbr[0]
    kinds = {(k.metric.unit, k.status_tone, k.delta_tone) for k in model.summary_kpis}
    assert len(model.summary_kpis) >= 4
    assert {"percent", "score", "minutes"} <= {unit for unit, _, _ in kinds}
    assert {"good", "bad", "warning"} <= {tone for _, tone, _ in kinds}
    assert any(_P_TEXT.search(k.significance_detail) for k in model.summary_kpis)


def test_pdf_tiles_show_the_kpi_strings_in_the_kpi_colours(qbr) -> None:
    model, pdf, *_ = qbr
    for page in summary_page(pdf, model):
        page_text = plain(page.extract_text())
        for kpi in model.summary_kpis:
            for shown in (kpi.value_text, kpi.delta_text, kpi.significance_text,
                          kpi.status_text):
                assert plain(shown) in page_text, (kpi.metric.label, shown)
            delta = page.search(re.escape(plain(kpi.delta_text)), regex=True)
            assert delta, kpi.delta_text
            assert all(same_colour(c["non_stroking_color"], kpi.delta_colour)
                       for c in delta[0]["chars"] if c["text"].strip()), kpi.metric.label
            if kpi.status_text:
                assert pill_colours(page, kpi.status_text) == {kpi.status_colour.upper()}


#: a tile's change as the page shows it: "▼ −2.6 pts vs Q2 2026", "▲ +0.3 pts vs Q2 2026"
TILE_CHANGE = re.compile(r"[▲▼►◆■●]? ?(?P<change>[+−±]\d+(?:\.\d+)?) (?:pts|min) vs ")
#: a finding's fall or rise from one shown value to another
FINDING_CHANGE = re.compile(r"(?P<label>[\w ]+?) (?:fell|rose) (?P<size>\d+\.\d) points to "
                            r"(?P<now>\d+\.\d)% in [^,]+, from (?P<before>\d+\.\d)%")


def as_shown(value: float, scale: int, places: int) -> Decimal:
    """``value`` as a reader sees it: scaled, then rounded half to even at ``places``."""
    return (Decimal(repr(value)) * scale).quantize(Decimal(1).scaleb(-places),
                                                   rounding=ROUND_HALF_EVEN)


def signed(shown: str) -> Decimal:
    return Decimal(shown.replace("−", "-").lstrip("+±"))


def test_each_tile_s_change_is_the_difference_of_its_shown_values(qbr) -> None:
    """A reader who sees 80.0% now and 82.6% before works out 2.6 points: the tile says
    that, as the finding beside it does, not the 2.7 the unrounded values differ by."""
    model, pdf, *_ = qbr
    for page in summary_page(pdf, model):
        page_text = plain(page.extract_text())
        # the tiles' lines interleave in the page's text (four across, some wrapping), so
        # the stated changes are compared with the expected ones as a whole
        changes = [signed(m["change"]) for m in TILE_CHANGE.finditer(page_text)]
        expected = {}
        for kpi in model.summary_kpis:
            shown_value = kpi.value_text.rstrip("%").removesuffix(" min")
            places = len(shown_value.partition(".")[2])
            scale = 100 if kpi.value_text.endswith("%") else 1
            previous = as_shown(kpi.metric.change.previous, scale, places)
            assert shown_value in page_text
            expected[kpi.metric.metric_id] = Decimal(shown_value) - previous
        assert sorted(changes) == sorted(expected.values())
        # CSAT's tile and its finding state the same change
        finding = next(m for m in FINDING_CHANGE.finditer(" ".join(page_text.split()))
                       if m["label"].endswith("CSAT"))
        assert Decimal(finding["now"]) - Decimal(finding["before"]) == -Decimal(finding["size"])
        assert expected["csat"] == -Decimal(finding["size"])


def pill_colours(page, label: str) -> set[str]:
    """The fill colour of the box under every occurrence of ``label``."""
    found = set()
    for match in page.search(re.escape(label), regex=True):
        x, y = (match["x0"] + match["x1"]) / 2, (match["top"] + match["bottom"]) / 2
        for rect in page.rects:
            colour = rect.get("non_stroking_color")
            if (rect["x0"] <= x <= rect["x1"] and rect["top"] <= y <= rect["bottom"]
                    and colour and len(colour) == 3 and colour != (1.0, 1.0, 1.0)):
                found.add("#" + "".join(f"{round(c * 255):02X}" for c in colour))
    return found


def test_deck_scorecard_shows_the_same_strings_and_colours(qbr) -> None:
    model, _, deck, *_ = qbr
    tables = [shape.table for slide in Presentation(str(deck)).slides for shape in slide.shapes
              if shape.has_table
              and tuple(c.text for c in shape.table.rows[0].cells) == SCORECARD_HEADERS]
    assert tables, "no scorecard in the deck"
    rows = {row.cells[0].text: row.cells for table in tables for row in list(table.rows)[1:]}
    column = SCORECARD_HEADERS.index
    for kpi in model.summary_kpis:
        cells = rows[kpi.metric.label]
        assert cells[column("Value")].text == kpi.value_text
        assert cells[column("Change")].text == kpi.delta_text
        assert cells[column("Significance")].text == kpi.significance_text
        assert cells[column("Status")].text == kpi.status_text
        if kpi.status_text:
            fill = cells[column("Status")].fill.fore_color.rgb
            assert f"#{fill}" == kpi.status_colour.upper()
        if kpi.delta_tone != "neutral":
            run = cells[column("Change")].text_frame.paragraphs[0].runs[0]
            assert f"#{run.font.color.rgb}" == kpi.delta_colour.upper()


def test_email_shows_the_same_strings_and_colours(qbr) -> None:
    model, _, _, text_body, html_body = qbr
    for kpi in model.summary_kpis:
        assert f"<strong>{kpi.value_text}</strong>" in html_body
        assert f'color: {kpi.delta_colour};">{kpi.delta_text}</td>' in html_body
        assert f"{kpi.metric.label}: {kpi.value_text} ({kpi.delta_text})" in text_body
        if kpi.status_text:
            assert re.search(rf"background: {kpi.status_colour};[^>]*>{kpi.status_text}<",
                             html_body), kpi.metric.label


def test_a_finding_quotes_the_tiles_value_and_p_value(qbr) -> None:
    model = qbr[0]
    checked = 0
    for kpi in model.summary_kpis:
        tile_p = _P_TEXT.search(kpi.significance_detail)
        if not tile_p or kpi.metric.unit in ("seconds", "minutes", "hours"):
            continue
        for finding in model.findings + tuple(f for s in model.sections for f in s.findings):
            if (finding.metric_id == kpi.metric.metric_id and finding.scope == "overall"
                    and model.period.previous_label in finding.sentence):
                # the test moved from the sentence to its note; tile and note agree
                assert tile_p.group(0) in finding.detail, (kpi.significance_detail,
                                                           finding.detail)
                assert kpi.value_text in finding.sentence
                checked += 1
    assert checked >= 2


def pdf_pages(path: Path) -> list[str]:
    with pdfplumber.open(path) as document:
        return [page.extract_text() or "" for page in document.pages]


def test_methodology_never_says_none(demo_mqr) -> None:
    model, pages = demo_mqr
    start = next(i for i, page in enumerate(pages) if "Methodology and provenance\nMethodology"
                 in page or page.startswith("Methodology and provenance"))
    appendix = "\n".join(pages[start:])
    assert "Definition" in appendix and len(appendix) > 2000
    assert not re.search(r"\bNone\b", appendix)
    assert all("None" not in note.formula for note in model.methodology)
    large = {n: c for n, c in model.provenance.row_counts.items() if c >= 1000}
    assert large  # the inputs' row counts are grouped like every other count
    for name, rows in large.items():
        assert f"{rows:,}" in appendix, name


def german_kpis(model: ReportModel) -> list[Kpi]:
    return [k for k in model.summary_kpis if k.metric.unit == "percent" and k.metric.value]


def test_german_locale_writes_german_numbers_and_months_in_the_pdf(
    demo_dir: Path, tmp_path: Path,
) -> None:
    model = demo_model(demo_dir, "monthly_quality_report.yaml", "2026-03", locale="de")
    assert model.locale == "de"
    assert (model.period.label, model.period.previous_label) == ("März 2026", "Februar 2026")
    pages = [plain(p) for p in pdf_pages(Path(render_pdf(model, tmp_path / "de.pdf").path))]
    document = "\n".join(pages)
    assert "März 2026" in pages[0] and "Februar 2026" in document
    assert all(k.delta_text.endswith("vs Februar 2026") for k in model.summary_kpis
               if k.metric.change and k.metric.change.delta is not None)
    percents = german_kpis(model)
    assert percents
    for kpi in percents:
        expected = f"{kpi.metric.value * 100:.1f}".replace(".", ",") + " %"
        assert plain(kpi.value_text) == expected
        assert expected in document
    assert re.search(r"\b\d{1,3}\.\d{3}\b", document)  # thousands grouped with a dot
    assert re.search(r"p = 0,\d+", document)
    assert text.current_locale().language == "en"  # the German build left no trace


def test_the_qbr_summary_of_eight_tiles_and_five_findings_fits_its_page(qbr) -> None:
    """Eight headline tiles go four across, so the summary with its findings and actions
    line is one page, and the first section starts on the next (it once spilled onto a
    page that was mostly empty)."""
    model, pdf, *_ = qbr
    assert len(model.summary_kpis) == 8 and len(model.findings) == 5
    lead = f"{model.period.label} compared with {model.period.previous_label}."
    with pdfplumber.open(pdf) as document:
        pages = [plain(page.extract_text() or "") for page in document.pages]
    (index,) = [i for i, page in enumerate(pages) if lead in page]
    summary, after = pages[index], pages[index + 1]
    for kpi in model.summary_kpis:
        assert kpi.metric.label.split(" (")[0] in summary and plain(kpi.value_text) in summary
    assert all(plain(f.sentence)[:40] in summary for f in model.findings)
    assert "open actions" in summary
    first = model.sections[0].title
    assert first in after and after.index(first) < 80  # the section opens the next page
