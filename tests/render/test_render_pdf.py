"""The PDF renderer, tested on the PDFs it writes (read back with pypdf and pdfplumber)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader
from support.factories import sample_kpi, sample_metric, sample_model

from reportgen.errors import RenderError
from reportgen.render.pdf import WEASYPRINT_LOGGER, render_pdf
from reportgen.render.pdf_templates import builtin_template_dir
from reportgen.report.model.report_model import ReportModel, Theme
from reportgen.report.model.sections import Finding

pytestmark = pytest.mark.slow


# ---------- models and helpers ----------


def rich_model() -> ReportModel:
    """The factory model with what a real month has: several KPIs, warnings, mixed tones."""
    base = standard_model()
    aht = sample_metric("aht", "Average handle time", value=0.3, previous=0.32, target=0.31)
    qa = sample_metric("qa", "QA score", value=0.9, previous=0.88, target=0.85)
    fcr = sample_metric("fcr", "First contact resolution", value=0.7, previous=0.7, target=0.72)
    # Strings as the pipeline writes them: long deltas and labelled intervals.
    kpis = (
        dataclasses.replace(base.summary_kpis[0], delta_text="−4.1 pts vs September 2026",
                            interval_text="95% CI 78.4–83.7%"),
        dataclasses.replace(
            sample_kpi(dataclasses.replace(qa, status="on_target")), value_text="90.4%",
            delta_text="+2.1 pts", delta_tone="good", arrow="up", status_text="On target",
            significance_text="", interval_text="88.9–91.8%", n_text="n = 1,204",
            target_text="Target 85.0%"),
        dataclasses.replace(
            sample_kpi(dataclasses.replace(aht, status="at_risk")), value_text="7m 12s",
            delta_text="−18s", delta_tone="good", arrow="down", status_text="At risk",
            significance_text="not significant (p = 0.31)", interval_text="",
            n_text="n = 9,876", target_text="Target 7m 00s"),
        dataclasses.replace(
            sample_kpi(dataclasses.replace(fcr, status=None)), value_text="70.2%",
            delta_text="±0.0 pts", delta_tone="neutral", arrow="flat", status_text="",
            significance_text="", interval_text="68.1–72.3%", n_text="n = 2,310",
            target_text=""),
    )
    findings = (
        base.findings[0],
        Finding(kind="threshold", metric_id="qa", scope="All queues",
                sentence="QA score rose 2.1 points to 90.4%, its best month this year.",
                severity=0.5, tone="good"),
        Finding(kind="pareto", metric_id="csat", scope="Billing",
                sentence="Three contact reasons explain 72% of Billing detractors: refunds, "
                         "double charges and unclear invoices.", severity=0.6, tone="warning"),
    )
    section0 = dataclasses.replace(
        base.sections[0], kpis=kpis[:3],
        figures=tuple(dataclasses.replace(f, caption="Shaded band: 95% interval.")
                      for f in base.sections[0].figures),
    )
    return dataclasses.replace(
        base, summary_kpis=kpis, findings=findings,
        sections=(section0, *base.sections[1:]),
        warnings=("Survey data for 3 Oct 2026 arrived late and is incomplete (62% of days).",
                  "Trust & Safety had fewer than 100 responses; treat its CSAT with care."),
        subtitle="Customer Support — EMEA",
    )


@functools.cache
def standard_model() -> ReportModel:
    """factories.sample_model(), built once: drawing its charts takes a while."""
    return sample_model()


@functools.cache
def light_model() -> ReportModel:
    """The standard model without charts, for tests about templates, errors and styling.

    Charts are most of the layout time, and these tests are not about charts.
    """
    base = standard_model()
    return dataclasses.replace(
        base, sections=tuple(dataclasses.replace(s, figures=()) for s in base.sections))


def pdf_text(path: Path) -> list[str]:
    """The text of each page, as pdfplumber extracts it."""
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def outline_titles(reader: PdfReader) -> list[tuple[str, int]]:
    """Every bookmark (any depth) with the 1-based page it points to."""
    found: list[tuple[str, int]] = []

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline)
    return found


@contextlib.contextmanager
def capture_weasyprint() -> Iterator[list[str]]:
    """Every WARNING-or-worse message the weasyprint loggers emit inside the block."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(f"{record.levelname}: {record.getMessage()}")

    handler = Collect(logging.WARNING)
    logger = logging.getLogger(WEASYPRINT_LOGGER)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".part")]


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportModel, Path]:
    model = standard_model()
    path = tmp_path_factory.mktemp("pdf") / "reports" / "mqr.pdf"
    with capture_weasyprint() as records:
        artifact = render_pdf(model, path)
    # render_pdf raises on warnings itself; this also catches a change that stops it doing so.
    assert records == [], "WeasyPrint warned while rendering the sample model"
    assert artifact.format == "pdf"
    assert Path(artifact.path) == path
    assert artifact.size == path.stat().st_size
    assert artifact.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    return model, path


@pytest.fixture(scope="module")
def rich_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportModel, Path]:
    model = rich_model()
    path = tmp_path_factory.mktemp("pdf") / "rich.pdf"
    with capture_weasyprint() as records:
        render_pdf(model, path)
    assert records == [], "WeasyPrint warned while rendering the rich model"
    return model, path


@pytest.fixture(scope="module")
def long_table_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportModel, Path]:
    base = sample_model(table_rows=120, sections=1)
    model = dataclasses.replace(
        base, sections=tuple(dataclasses.replace(s, figures=()) for s in base.sections))
    path = tmp_path_factory.mktemp("pdf") / "long.pdf"
    render_pdf(model, path)
    return model, path


# ---------- the standard report ----------


def test_pdf_is_written_whole_with_no_temporary_files(
    sample_pdf: tuple[ReportModel, Path],
) -> None:
    _, path = sample_pdf
    assert path.read_bytes().startswith(b"%PDF-")
    assert path.read_bytes().rstrip().endswith(b"%%EOF")
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_page_count_is_in_the_expected_range(sample_pdf: tuple[ReportModel, Path]) -> None:
    # Cover, summary, two sections of one to two pages each, appendix.
    _, path = sample_pdf
    assert 5 <= len(PdfReader(path).pages) <= 8


def test_every_kpi_value_and_finding_is_in_the_text(sample_pdf: tuple[ReportModel, Path]) -> None:
    model, path = sample_pdf
    text = "\n".join(pdf_text(path))
    for value in model.kpi_texts():
        assert value in text
    for finding in model.findings:
        assert finding.sentence in text
    for section in model.sections:
        for table in section.tables:
            for row in table.rows:
                assert all(cell.text in text for cell in row)


def test_metadata_comes_from_the_model(sample_pdf: tuple[ReportModel, Path]) -> None:
    model, path = sample_pdf
    meta = PdfReader(path).metadata
    assert meta.title == model.title
    assert meta.author == model.organisation
    assert meta.subject == model.period.label
    assert meta.creation_date == model.generated_at


def test_bookmarks_for_every_section_point_at_its_page(
    sample_pdf: tuple[ReportModel, Path],
) -> None:
    model, path = sample_pdf
    pages = pdf_text(path)
    bookmarks = dict(outline_titles(PdfReader(path)))
    for title in ["Executive summary", *(s.title for s in model.sections),
                  "Methodology and provenance"]:
        assert title in bookmarks, f"no bookmark for {title!r}: {sorted(bookmarks)}"
        assert title in pages[bookmarks[title] - 1]


def test_contents_lists_the_page_of_each_section(sample_pdf: tuple[ReportModel, Path]) -> None:
    model, path = sample_pdf
    pages = pdf_text(path)
    bookmarks = dict(outline_titles(PdfReader(path)))
    for section in model.sections:
        assert re.search(rf"{re.escape(section.title)}\s+{bookmarks[section.title]}\b", pages[0])


def test_header_and_footer_on_every_page_but_the_cover(
    sample_pdf: tuple[ReportModel, Path],
) -> None:
    model, path = sample_pdf
    pages = pdf_text(path)
    total = len(pages)
    assert "Page 1 of" not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of {total}" in text
        assert f"{model.title} · {model.period.label}" in text
        assert model.organisation in text


def test_pdf_is_tagged_with_language_and_figure_alt_text(
    sample_pdf: tuple[ReportModel, Path],
) -> None:
    model, path = sample_pdf
    root = PdfReader(path).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"
    alts: list[str] = []

    def walk(node: object) -> None:
        node = node.get_object()  # type: ignore[attr-defined]
        if isinstance(node, list):
            for kid in node:
                walk(kid)
        elif isinstance(node, dict):
            if node.get("/S") == "/Figure" and "/Alt" in node:
                alts.append(str(node["/Alt"]))
            if "/K" in node:
                walk(node["/K"])

    walk(root["/StructTreeRoot"])
    expected = {f.alt_text for s in model.sections for f in s.figures}
    assert expected <= set(alts)


def test_same_model_renders_to_the_same_bytes(
    sample_pdf: tuple[ReportModel, Path], tmp_path: Path,
) -> None:
    model, path = sample_pdf
    again = render_pdf(model, tmp_path / "again.pdf")
    assert Path(again.path).read_bytes() == path.read_bytes()


def test_a_weasyprint_warning_fails_the_render(tmp_path: Path) -> None:
    sheet = tmp_path / "typo.css"
    sheet.write_text(".kpi { colour: red; }\n")
    with pytest.raises(RenderError, match="colour"):
        render_pdf(light_model(), tmp_path / "mqr.pdf", stylesheets=[sheet])
    assert not (tmp_path / "mqr.pdf").exists()


def test_warnings_kpis_and_findings_of_a_full_month_are_shown(
    rich_pdf: tuple[ReportModel, Path],
) -> None:
    model, out = rich_pdf
    pages = pdf_text(out)
    summary = pages[1]
    assert "Data warnings" in summary
    for warning in model.warnings:
        assert warning in summary.replace("\n", " ")
    for kpi in model.summary_kpis:
        assert kpi.value_text in summary
        assert kpi.delta_text in summary
        assert kpi.status_text in summary
    assert "\n".join(pages).count(model.sections[0].figures[0].caption) == 1


# ---------- long tables ----------


def test_long_table_repeats_its_header_and_never_splits_a_row(
    long_table_pdf: tuple[ReportModel, Path],
) -> None:
    model, path = long_table_pdf
    table = model.sections[0].tables[0]
    header = " ".join(c.label for c in table.columns)
    row_lines = {" ".join(cell.text for cell in row) for row in table.rows}
    pages_with_rows = 0
    seen: list[str] = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            lines = (page.extract_text() or "").splitlines()
            rows_here = [line for line in lines if re.match(r"Queue \d", line)]
            if not rows_here:
                continue
            pages_with_rows += 1
            # The repeated header is the line right above this page's first row.
            first = lines.index(rows_here[0])
            assert lines[first - 1] == header, f"page {page.page_number}: no header row"
            # A whole row (all its cells) sits on one line of one page.
            assert set(rows_here) <= row_lines, f"page {page.page_number}: a row was cut"
            seen.extend(rows_here)
    assert pages_with_rows >= 3
    assert sorted(seen) == sorted(row_lines)


# ---------- escaping ----------


def test_model_text_is_escaped_not_interpreted(tmp_path: Path) -> None:
    base = light_model()
    hostile = '<script>alert("x")</script> & <b>bold</b>'
    finding = dataclasses.replace(base.findings[0], sentence=hostile)
    model = dataclasses.replace(base, findings=(finding,), title="Q&A <Report>")
    out = tmp_path / "escaped.pdf"
    render_pdf(model, out)
    text = "\n".join(pdf_text(out))
    assert hostile in text
    assert "Q&A <Report>" in text
    assert PdfReader(out).metadata.title == "Q&A <Report>"


def test_theme_colour_that_is_not_a_colour_is_refused(tmp_path: Path) -> None:
    model = dataclasses.replace(
        light_model(), theme=Theme(primary="red; } body { display: none"))
    with pytest.raises(RenderError, match="theme colour 'primary'"):
        render_pdf(model, tmp_path / "bad.pdf")
    assert list(tmp_path.iterdir()) == []


# ---------- customisation ----------


def cover_band_colours(path: Path) -> set[tuple[float, ...]]:
    """Fill colours of the wide rectangles on the cover (the brand band)."""
    with pdfplumber.open(path) as pdf:
        cover = pdf.pages[0]
        return {tuple(round(c, 3) for c in r["non_stroking_color"])
                for r in cover.rects if r["width"] > cover.width * 0.9}


def test_cover_band_uses_the_theme_primary_colour(tmp_path: Path) -> None:
    # A naive generated_at (no time zone) must render too; it is written as UTC.
    model = dataclasses.replace(light_model(), theme=Theme(primary="#336699"),
                                generated_at=datetime(2026, 11, 2, 7, 0))
    out = tmp_path / "themed.pdf"
    render_pdf(model, out)
    assert (0.2, 0.4, 0.6) in cover_band_colours(out)
    assert PdfReader(out).metadata.creation_date == model.generated_at.replace(tzinfo=UTC)


def test_template_folder_overrides_one_block_and_the_css(tmp_path: Path) -> None:
    folder = tmp_path / "acme_templates"
    folder.mkdir()
    (folder / "report.html.j2").write_text(
        '{% extends "builtin/report.html.j2" %}\n'
        "{% block lang %}de{% endblock %}\n"
        "{% block appendix %}{{ super() }}"
        '<section class="appendix"><h1>Questions? quality@acme.example</h1></section>'
        "{% endblock %}\n"
    )
    (folder / "overrides.css").write_text(".cover-band { background: #ff0000; }\n")
    out = tmp_path / "custom.pdf"
    render_pdf(light_model(), out, template_dir=folder)
    assert "Questions? quality@acme.example" in pdf_text(out)[-1]
    assert PdfReader(out).trailer["/Root"]["/Lang"] == "de"
    assert (1.0, 0.0, 0.0) in cover_band_colours(out)


def test_template_folder_can_replace_a_single_partial(tmp_path: Path) -> None:
    folder = tmp_path / "acme_templates"
    folder.mkdir()
    builtin_cover = (builtin_template_dir() / "cover.html.j2").read_text()
    (folder / "cover.html.j2").write_text(
        builtin_cover.replace("Compared with", "Verglichen mit"))
    out = tmp_path / "custom.pdf"
    render_pdf(light_model(), out, template_dir=folder)
    cover = pdf_text(out)[0]
    # Cover labels are set in capitals by the stylesheet.
    assert "VERGLICHEN MIT" in cover
    assert "COMPARED WITH" not in cover


def test_template_folder_can_replace_base_css(tmp_path: Path) -> None:
    folder = tmp_path / "acme_templates"
    folder.mkdir()
    (folder / "base.css").write_text("@page { size: A5; }\n")
    out = tmp_path / "a5.pdf"
    render_pdf(light_model(), out, template_dir=folder)
    box = PdfReader(out).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (420, 595)


def test_extra_stylesheets_apply_after_the_template_css(tmp_path: Path) -> None:
    folder = tmp_path / "acme_templates"
    folder.mkdir()
    (folder / "overrides.css").write_text(".cover-band { background: #ff0000; }\n")
    sheet = tmp_path / "brand.css"
    sheet.write_text(".cover-band { background: #00ff00; }\n")
    out = tmp_path / "styled.pdf"
    render_pdf(light_model(), out, template_dir=folder, stylesheets=[sheet])
    assert (0.0, 1.0, 0.0) in cover_band_colours(out)


# ---------- failures leave nothing behind ----------


def test_broken_template_raises_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "cover.html.j2").write_text("<h1>{{ model.no_such_field }}</h1>")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "mqr.pdf"
    with pytest.raises(RenderError, match=r"cover\.html\.j2:1: .*no_such_field"):
        render_pdf(light_model(), out, template_dir=folder)
    assert not out.exists()
    assert list(out_dir.iterdir()) == []


def test_failed_render_keeps_the_previous_artifact(tmp_path: Path) -> None:
    out = tmp_path / "mqr.pdf"
    render_pdf(light_model(), out)
    before = out.read_bytes()
    sheet = tmp_path / "bad.css"
    sheet.write_text(".cover { colour: red; }\n")  # a typo WeasyPrint warns about
    with pytest.raises(RenderError, match="colour"):
        render_pdf(light_model(), out, stylesheets=[sheet])
    assert out.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_remote_resources_are_refused(tmp_path: Path) -> None:
    sheet = tmp_path / "remote.css"
    sheet.write_text(".cover-band { background: url(http://example.invalid/logo.png); }\n")
    out = tmp_path / "mqr.pdf"
    with pytest.raises(RenderError, match="example.invalid"):
        render_pdf(light_model(), out, stylesheets=[sheet])
    assert not out.exists()


def test_missing_template_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="does not exist"):
        render_pdf(light_model(), tmp_path / "mqr.pdf", template_dir=tmp_path / "nope")


def test_missing_builtin_templates_are_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if reportgen were installed without its templates, in a checkout or under share/.
    from reportgen.render import templates

    monkeypatch.setattr(templates, "_CHECKOUT", tmp_path / "checkout")
    monkeypatch.setattr(templates, "_INSTALLED", tmp_path / "share")
    with pytest.raises(RenderError, match="built-in 'mqr' templates are missing") as info:
        render_pdf(light_model(), tmp_path / "mqr.pdf")
    assert str(tmp_path / "share" / "mqr") in str(info.value)
    assert not (tmp_path / "mqr.pdf").exists()


def test_artifacts_get_the_permissions_of_an_ordinary_file(tmp_path):
    import os

    from reportgen.render.files import write_atomically

    old = os.umask(0o022)
    try:
        artifact = write_atomically(tmp_path / "r.pdf", "pdf", lambda p: p.write_bytes(b"%PDF-1.7"))
    finally:
        os.umask(old)
    assert (tmp_path / "r.pdf").stat().st_mode & 0o777 == 0o644
    assert artifact.size == 8 and len(artifact.sha256) == 64
