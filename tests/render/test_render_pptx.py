"""The PPTX QBR deck, tested on the decks it writes (read back with python-pptx and LibreOffice)."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import io
import re
import zipfile
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest
from lxml import etree
from PIL import ImageFont
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.dml import MSO_THEME_COLOR
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.util import Emu, Pt
from pypdf import PdfReader
from support.factories import sample_figure, sample_model
from support.libreoffice import LibreOfficeError, convert_all_to_pdf, convert_to_pdf
from support.paths import REPO

from reportgen.errors import RenderError
from reportgen.render import pptx_deck
from reportgen.render.pptx_charts import nice_bounds
from reportgen.render.pptx_deck import DEFAULT_MASTER, render_pptx
from reportgen.render.pptx_tables import SCORECARD_HEADERS
from reportgen.render.pptx_text import SAFETY, ellipsize, font_file, wrap_text, wrapped_lines
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import NativeChart, Series

BUILD_MASTER = REPO / "report_templates" / "qbr" / "build_master.py"


# ---------- helpers ----------


@functools.cache
def standard_model() -> ReportModel:
    """factories.sample_model() with two headline KPIs and two methodology notes, built once.

    Two rows each, because a one-row table is shown as a list, not as a table.
    """
    base = sample_model()
    kpi = base.summary_kpis[0]
    nps = dataclasses.replace(kpi, metric=dataclasses.replace(
        kpi.metric, metric_id="nps", label="NPS", status="on_target"),
        value_text="36.1", target_text="Target 30.0", status_text="On target")
    note = dataclasses.replace(base.methodology[0], metric_id="nps", label="NPS",
                               formula="% promoters (9-10) - % detractors (0-6)", suppressed=())
    return dataclasses.replace(base, summary_kpis=(kpi, nps),
                               methodology=(*base.methodology, note))


@functools.cache
def long_table_model() -> ReportModel:
    return sample_model(table_rows=60)


def crowded_model() -> ReportModel:
    """Everything too long: titles, findings, intro, table cells, many KPIs."""
    base = long_table_model()
    kpi = base.summary_kpis[0]
    labels = ["CSAT", "First contact resolution rate across all channels and regions",
              "QA score", "Average handle time", "Reopen rate", "NPS", "Escalation rate",
              "Calibration agreement (Krippendorff's alpha)", "Backlog older than 48 hours"]
    kpis = tuple(dataclasses.replace(kpi, metric=dataclasses.replace(
        kpi.metric, metric_id=f"m{i}", label=label)) for i, label in enumerate(labels))
    sentence = ("Among Trust & Safety tickets handled by the weekend team in EMEA, CSAT fell "
                "12.4 points to 68.1% (p < 0.001), driven by slower first responses on fraud "
                "escalations rather than by a change in the mix of contact reasons. ")
    findings = tuple(dataclasses.replace(base.findings[0], sentence=sentence * (1 + i % 2))
                     for i in range(7))
    section = base.sections[0]
    table = section.tables[0]
    rows = tuple((dataclasses.replace(row[0], text=sentence * (i % 4)), *row[1:])
                 for i, row in enumerate(table.rows[:20]))
    figure = dataclasses.replace(section.figures[0], title=(
        "CSAT by queue and channel: Billing is 14 points below the rest of the organisation "
        "and drives most of the monthly decline"), caption=sentence * 3)
    crowded = dataclasses.replace(
        section, title="Voice of the customer: satisfaction, effort and loyalty in every "
                       "channel and region we serve", intro=sentence * 3, kpis=kpis,
        figures=(figure,), tables=(dataclasses.replace(table, rows=rows),))
    return dataclasses.replace(base, summary_kpis=kpis, findings=findings, sections=(crowded,),
                               warnings=(sentence,) * 6)


def render(model: ReportModel, out: Path, **kwargs):
    artifact = render_pptx(model, out, **kwargs)
    return artifact, Presentation(str(out))


def measured_lines(text: str, width: int, size_pt: float, *, bold: bool = False) -> int:
    """Lines ``text`` takes in a box ``width`` EMU wide, measured with Pillow and the font file.

    An independent greedy wrap (no code shared with the renderer's fitting).
    """
    font = ImageFont.truetype(font_file("Inter", bold), 100)
    room = Emu(width).pt

    def fits(line: str) -> bool:
        return font.getlength(line) * size_pt / 100 <= room

    count = 0
    for raw in text.split("\n"):
        line = ""
        for word in raw.split():
            if fits(f"{line} {word}".strip()):
                line = f"{line} {word}".strip()
                continue
            count += 1 if line else 0
            while not fits(word) and len(word) > 1:
                cut = max(i for i in range(1, len(word) + 1) if fits(word[:i]) or i == 1)
                word = word[cut:]
                count += 1
            line = word
        count += 1
    return count


def measured_height_pt(text: str, width: int, size_pt: float, *, bold: bool = False) -> float:
    return measured_lines(text, width, size_pt, bold=bold) * size_pt * 1.2


def text_placeholder_text(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.placeholders
                     if s.placeholder_format.type in (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT))


def titles(prs) -> list[str]:
    return [s.shapes.title.text if s.shapes.title is not None else "" for s in prs.slides]


def slides_titled(prs, title: str) -> list:
    return [s for s in prs.slides if s.shapes.title is not None and s.shapes.title.text == title]


def only_table(slide):
    tables = [s for s in slide.shapes if s.has_table]
    assert len(tables) == 1, f"expected one table on '{slide.shapes.title.text}'"
    return tables[0]


def table_texts(frame) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in frame.table.rows]


def notes(slide) -> str:
    return slide.notes_slide.notes_text_frame.text


def master_copy(tmp_path: Path, *, rename: dict[str, str] | None = None,
                dk2: str | None = None, extra_slide: bool = False) -> Path:
    """A copy of the default master with layouts renamed, a theme colour changed or a slide."""
    prs = Presentation(str(DEFAULT_MASTER))
    for layout in prs.slide_layouts:
        if rename and layout.name in rename:
            layout.name = rename[layout.name]
    if extra_slide:
        slide = prs.slides.add_slide(prs.slide_layouts[0])
        slide.shapes.title.text = "Leftover slide from the template"
    buffer = io.BytesIO()
    prs.save(buffer)
    path = tmp_path / "custom-master.pptx"
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if dk2 and item.filename.startswith("ppt/theme/theme"):
                data = re.sub(rb'(<a:dk2><a:srgbClr val=")[0-9A-F]{6}', rb"\g<1>" + dk2.encode(),
                              data)
            dst.writestr(item, data)
    return path


def theme_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        name = next(n for n in package.namelist() if n.startswith("ppt/theme/theme"))
        return package.read(name).decode()


# ---------- structure ----------


@pytest.fixture(scope="module")
def standard_deck(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("deck") / "qbr.pptx"
    artifact, prs = render(standard_model(), out)
    return artifact, prs


def test_python_pptx_is_the_library_imported_by_the_renderer() -> None:
    # the renderer's modules must not shadow the python-pptx package for their siblings.
    assert pptx_deck.__name__ == "reportgen.render.pptx_deck"
    assert Path(Presentation.__module__.replace(".", "/")).parts[0] == "pptx"
    assert "site-packages" in Path(importlib.util.find_spec("pptx").origin).parts


def test_artifact_describes_the_written_file(standard_deck) -> None:
    artifact, prs = standard_deck
    assert artifact.format == "pptx"
    assert Path(artifact.path).stat().st_size == artifact.size
    assert len(artifact.sha256) == 64
    assert prs.slide_width * 9 == prs.slide_height * 16  # 16:9


def test_slide_titles_follow_the_deck_order(standard_deck) -> None:
    model = standard_model()
    expected = ["Monthly Quality Report", "Agenda", "KPI scorecard", "Key findings"]
    for section in model.sections:
        # The section's findings first, on a slide of their own, then its charts and tables.
        said = [f"{section.title}: findings"] if section.findings else []
        own = [*said, *(f.title for f in section.figures), *(t.title for t in section.tables)]
        # A divider only heads a section of three or more slides.
        expected.extend([section.title, *own] if len(own) >= 3 else own)
    expected += ["Methodology"]
    assert titles(standard_deck[1]) == expected


def test_slides_use_the_masters_layouts_by_name(standard_deck) -> None:
    layouts = [s.slide_layout.name for s in standard_deck[1].slides]
    assert layouts[:4] == ["Title Slide", "Title and Content", "Title Only", "Title and Content"]
    # A section with a findings slide, a chart and a table has three slides of its own:
    # a divider heads it; the appendix has one slide, too few for one.
    model = standard_model()
    long_enough = [s for s in model.sections
                   if len(s.figures) + len(s.tables) + (1 if s.findings else 0) >= 3]
    assert layouts.count("Section Header") == len(long_enough)


def test_title_slide_shows_organisation_period_and_generated_date(standard_deck) -> None:
    model = standard_model()
    text = "\n".join(s.text_frame.text for s in standard_deck[1].slides[0].shapes
                     if s.has_text_frame)
    assert model.title in text and model.organisation in text and model.period.label in text
    # 07:00 UTC is 08:00 in Berlin (CET in November), written the way the PDF cover and the
    # notes write it: the locale's medium date and short time, then the zone
    assert "Generated Nov 2, 2026, 8:00 AM CET" in text
    notes = standard_deck[1].slides[0].notes_slide.notes_text_frame.text
    assert "Generated Nov 2, 2026, 8:00 AM CET." in notes


def test_agenda_lists_every_section(standard_deck) -> None:
    agenda = slides_titled(standard_deck[1], "Agenda")[0]
    body = [s for s in agenda.placeholders if s.placeholder_format.idx == 1][0]
    assert [s.title for s in standard_model().sections] == [
        p.text for p in body.text_frame.paragraphs][1:-1]


def test_content_slides_have_footer_and_slide_number(standard_deck) -> None:
    model = standard_model()
    for number, slide in enumerate(standard_deck[1].slides, start=1):
        kinds = {p.placeholder_format.type: p for p in slide.placeholders}
        if slide.slide_layout.name in ("Title Slide", "Section Header"):
            assert PP_PLACEHOLDER.FOOTER not in kinds
            continue
        assert model.organisation in kinds[PP_PLACEHOLDER.FOOTER].text_frame.text
        assert kinds[PP_PLACEHOLDER.SLIDE_NUMBER].text_frame.text == str(number)


# ---------- scorecard, findings, notes ----------


def test_scorecard_cells_are_the_kpi_strings(standard_deck) -> None:
    model = standard_model()
    rows = table_texts(only_table(slides_titled(standard_deck[1], "KPI scorecard")[0]))
    assert tuple(rows[0]) == SCORECARD_HEADERS
    assert rows[1:] == [[k.metric.label, k.value_text, k.delta_text, k.significance_text,
                         k.target_text, k.status_text] for k in model.summary_kpis]


def test_scorecard_status_cell_is_filled_with_the_theme_colour(standard_deck) -> None:
    model = standard_model()
    assert model.summary_kpis[0].metric.status == "off_target"
    table = only_table(slides_titled(standard_deck[1], "KPI scorecard")[0]).table
    status = table.cell(1, SCORECARD_HEADERS.index("Status"))
    assert str(status.fill.fore_color.rgb) == model.theme.bad.lstrip("#").upper()


def test_key_findings_slide_shows_the_top_findings(tmp_path: Path) -> None:
    base = standard_model()
    findings = tuple(dataclasses.replace(base.findings[0], sentence=f"Finding number {i}.")
                     for i in range(8))
    _, prs = render(dataclasses.replace(base, findings=findings), tmp_path / "f.pptx")
    slide = slides_titled(prs, "Key findings")[0]
    shown = [p.text for p in slide.placeholders[1].text_frame.paragraphs]
    assert shown == [f.sentence for f in findings[: pptx_deck.MAX_FINDINGS]]
    assert all(f.sentence in notes(slide) for f in findings)  # the rest are in the notes


def test_every_slide_has_speaker_notes(standard_deck) -> None:
    assert all(notes(slide).strip() for slide in standard_deck[1].slides)


def test_figure_notes_carry_alt_text_kpi_strings_and_findings(standard_deck) -> None:
    model = standard_model()
    for section in model.sections:
        for figure in section.figures:
            text = notes(slides_titled(standard_deck[1], figure.title)[0])
            assert figure.alt_text in text
            for kpi in section.kpis:
                for string in (kpi.value_text, kpi.interval_text, kpi.n_text, kpi.delta_text,
                               kpi.significance_text):
                    assert string in text
            assert all(f.sentence in text for f in section.findings)


def test_scorecard_notes_carry_interval_and_n(standard_deck) -> None:
    text = notes(slides_titled(standard_deck[1], "KPI scorecard")[0])
    for kpi in standard_model().summary_kpis:
        assert kpi.interval_text in text and kpi.n_text in text and kpi.value_text in text


# ---------- figures ----------


def test_native_charts_hold_exactly_the_native_chart_data(standard_deck) -> None:
    model = standard_model()
    for section in model.sections:
        for figure in section.figures:
            slide = slides_titled(standard_deck[1], figure.title)[section.figures.index(figure)]
            charts = [s for s in slide.shapes if s.has_chart]
            assert len(charts) == 1
            chart = charts[0].chart
            assert chart.chart_type == XL_CHART_TYPE.LINE_MARKERS
            assert tuple(chart.plots[0].categories) == figure.native.categories
            assert [tuple(s.values) for s in chart.series] == [
                s.values for s in figure.native.series]
            assert chart.value_axis.tick_labels.number_format == figure.native.number_format


def test_native_chart_values_are_the_metric_history(standard_deck) -> None:
    metric = standard_model().metrics["csat"]
    slide = slides_titled(standard_deck[1], standard_model().sections[0].figures[0].title)[0]
    chart = next(s for s in slide.shapes if s.has_chart).chart
    assert tuple(chart.plots[0].categories) == tuple(p.label for p in metric.history)
    assert tuple(chart.series[0].values) == tuple(p.value for p in metric.history)


def test_charts_carry_the_alt_text(standard_deck) -> None:
    figure = standard_model().sections[0].figures[0]
    frame = next(s for s in slides_titled(standard_deck[1], figure.title)[0].shapes if s.has_chart)
    assert frame.element.xpath("./p:nvGraphicFramePr/p:cNvPr/@descr") == [figure.alt_text]


@pytest.mark.parametrize("chart_type, expected", [
    ("bar", XL_CHART_TYPE.BAR_CLUSTERED),
    ("column", XL_CHART_TYPE.COLUMN_CLUSTERED),
    ("stacked_column", XL_CHART_TYPE.COLUMN_STACKED),
    ("stacked_bar", XL_CHART_TYPE.BAR_STACKED),
    ("percent_stacked_column", XL_CHART_TYPE.COLUMN_STACKED_100),
])
def test_every_native_chart_type_keeps_its_values(tmp_path: Path, chart_type: str,
                                                  expected: XL_CHART_TYPE) -> None:
    base = standard_model()
    native = NativeChart(chart_type=chart_type, categories=("Email", "Chat", "Phone"),
                         series=(Series("Promoters", (0.5, 0.6, None)),
                                 Series("Detractors", (0.2, 0.15, 0.25))),
                         number_format="0%", value_axis_title="Share of responses")
    figure = dataclasses.replace(base.sections[0].figures[0], title="Mix by channel",
                                 native=native)
    model = dataclasses.replace(base, sections=(
        dataclasses.replace(base.sections[0], figures=(figure,)),))
    _, prs = render(model, tmp_path / "chart.pptx")
    chart = next(s for s in slides_titled(prs, "Mix by channel")[0].shapes if s.has_chart).chart
    assert chart.chart_type == expected
    assert tuple(chart.plots[0].categories) == native.categories
    assert [tuple(s.values) for s in chart.series] == [s.values for s in native.series]
    assert chart.value_axis.axis_title.text_frame.text == "Share of responses"
    palette = [base.theme.primary, *base.theme.palette[1:]]
    assert [str(s.format.fill.fore_color.rgb) for s in chart.series] == [
        c.lstrip("#").upper() for c in palette[:2]]


def test_chart_axis_bounds_widen_to_round_steps() -> None:
    assert nice_bounds(3854.0, 5983.0) == (3500.0, 6000.0, 500.0)
    assert nice_bounds(0.75, 0.87) == (0.74, 0.88, 0.02)
    assert nice_bounds(0.0, 1.0) == (0.0, 1.0, 0.2)


def test_figure_without_native_chart_is_a_picture_with_its_aspect_ratio(tmp_path: Path) -> None:
    base = standard_model()
    figure = dataclasses.replace(sample_figure("png_only", "Control chart"), native=None)
    model = dataclasses.replace(base, sections=(
        dataclasses.replace(base.sections[0], figures=(figure,)),))
    _, prs = render(model, tmp_path / "picture.pptx")
    slide = slides_titled(prs, "Control chart")[0]
    assert not any(s.has_chart for s in slide.shapes)
    picture = next(s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
    assert picture.image.blob == figure.png
    px_width, px_height = picture.image.size
    assert picture.width / picture.height == pytest.approx(px_width / px_height, rel=0.01)
    assert picture.left >= 0 and picture.left + picture.width <= prs.slide_width
    assert picture.top + picture.height <= Emu(int(prs.slide_height * 0.93))  # above the footer


# ---------- tables and text fitting ----------


def test_long_table_splits_over_slides_each_with_a_header_row(tmp_path: Path) -> None:
    model = long_table_model()
    table = model.sections[0].tables[0]
    _, prs = render(model, tmp_path / "long.pptx")
    first = titles(prs).index(table.title)
    parts = [prs.slides[first]]
    while titles(prs)[first + len(parts)] == f"{table.title} (cont.)":
        parts.append(prs.slides[first + len(parts)])
    assert len(parts) > 1
    body: list[list[str]] = []
    for slide in parts:
        frame = only_table(slide)
        rows = table_texts(frame)
        assert rows[0] == [c.label for c in table.columns]
        body += rows[1:]
        bottom = frame.top + sum(r.height for r in frame.table.rows)
        assert bottom < prs.slide_height * 0.9  # clear of the footer
    assert body == [[cell.text for cell in row] for row in table.rows]


def test_long_titles_shrink_and_pathological_ones_are_cut(tmp_path: Path) -> None:
    base = standard_model()
    long_title = "CSAT by queue and channel: Billing is 14 points below the rest and drives the fall"
    absurd = "Very long title " * 40
    figures = (dataclasses.replace(base.sections[0].figures[0], title=long_title),
               dataclasses.replace(base.sections[0].figures[0], id="absurd", title=absurd))
    model = dataclasses.replace(base, sections=(
        dataclasses.replace(base.sections[0], figures=figures),))
    _, prs = render(model, tmp_path / "titles.pptx")
    shrunk = slides_titled(prs, long_title)[0].shapes.title
    assert shrunk.text_frame.paragraphs[0].runs[0].font.size.pt < 28
    cut = next(s for s in prs.slides if s.shapes.title.text.startswith("Very long"))
    shown = cut.shapes.title.text_frame.text
    assert shown.endswith("\u2026") and len(shown) < len(absurd.strip())
    size = cut.shapes.title.text_frame.paragraphs[0].runs[0].font.size.pt
    assert measured_height_pt(shown, cut.shapes.title.width - Emu(182880), size, bold=True) \
        <= Emu(cut.shapes.title.height).pt
    assert absurd.strip() in notes(cut)  # nothing is lost: the notes keep the whole title


def test_pathological_cell_text_is_cut_with_an_ellipsis(tmp_path: Path) -> None:
    base = standard_model()
    table = base.sections[0].tables[0]
    huge = "word " * 400 + "end"
    rows = ((dataclasses.replace(table.rows[0][0], text=huge), *table.rows[0][1:]),
            *table.rows[1:])
    model = dataclasses.replace(base, sections=(dataclasses.replace(
        base.sections[0], tables=(dataclasses.replace(table, rows=rows),)),))
    _, prs = render(model, tmp_path / "cell.pptx")
    slide = slides_titled(prs, table.title)[0]
    cell = only_table(slide).table.cell(1, 0).text
    assert cell.endswith("\u2026") and len(cell) < len(huge) / 2
    assert huge in notes(slide)


def test_data_quality_warnings_get_an_appendix_slide(tmp_path: Path) -> None:
    warning = "Survey data for 3 Oct 2026 arrived late."
    _, prs = render(dataclasses.replace(standard_model(), warnings=(warning,)), tmp_path / "w.pptx")
    slide = slides_titled(prs, "Data-quality notes")[0]
    assert warning in slide.placeholders[1].text_frame.text


def test_methodology_and_provenance_are_in_the_appendix(standard_deck) -> None:
    model = standard_model()
    slide = slides_titled(standard_deck[1], "Methodology")[0]
    rows = table_texts(only_table(slide))
    note = model.methodology[0]
    assert rows[1][:4] == [note.label, note.formula, note.test, note.n_text]
    text = " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    assert model.provenance.definition_hash in text and model.provenance.code_version in text


def test_wrap_measures_with_the_font_file_and_ellipsis() -> None:
    font = ImageFont.truetype(font_file("Inter"), 100)
    two_words = Pt(font.getlength("one two") * 18 / 100 / SAFETY + 1)
    assert wrapped_lines("one two", two_words, 18) == 1
    assert wrapped_lines("one two three", two_words, 18) == 2  # "one two" / "three"
    assert wrapped_lines("a\nb", two_words, 18) == 2
    # A word longer than the line breaks mid-word; "i" is narrower than "W".
    assert wrapped_lines("W" * 40, two_words, 18) > wrapped_lines("i" * 40, two_words, 18) >= 1
    assert wrap_text("W" * 40, two_words, 18) and "".join(wrap_text("W" * 40, two_words, 18)) \
        == "W" * 40
    assert ellipsize("short", 10) == "short"
    cut = ellipsize("the quick brown fox jumps over the lazy dog", 20)
    assert cut == "the quick brown fox\u2026" and len(cut) <= 20


# ---------- masters ----------


def test_custom_master_theme_is_used(tmp_path: Path) -> None:
    master = master_copy(tmp_path, dk2="7A1F5C")
    artifact, prs = render(standard_model(), tmp_path / "custom.pptx", master=master)
    assert '<a:dk2><a:srgbClr val="7A1F5C"/>' in theme_xml(Path(artifact.path))
    assert titles(prs)[0] == standard_model().title
    # The title layout's background is the theme's "dark 2", so the new colour shows.
    background = prs.slides[0].slide_layout.background.fill
    assert background.fore_color.theme_color == MSO_THEME_COLOR.TEXT_2


def test_title_layout_may_be_called_title(tmp_path: Path) -> None:
    master = master_copy(tmp_path, rename={"Title Slide": "Title"})
    _, prs = render(standard_model(), tmp_path / "alias.pptx", master=master)
    assert prs.slides[0].slide_layout.name == "Title"


def test_master_lacking_a_layout_fails_naming_it_and_the_available_ones(tmp_path: Path) -> None:
    master = master_copy(tmp_path, rename={"Section Header": "Divider", "Title Only": "Bare"})
    out = tmp_path / "deck.pptx"
    with pytest.raises(RenderError) as caught:
        render_pptx(standard_model(), out, master=master)
    message = str(caught.value)
    assert "'Section Header'" in message and "'Title Only'" in message
    assert "'Divider'" in message and "'Bare'" in message and "Available layouts" in message
    assert not out.exists()


def test_slides_already_in_the_master_are_not_part_of_the_deck(tmp_path: Path) -> None:
    master = master_copy(tmp_path, extra_slide=True)
    _, prs = render(standard_model(), tmp_path / "deck.pptx", master=master)
    assert "Leftover slide from the template" not in titles(prs)
    assert titles(prs)[0] == standard_model().title


def test_a_potx_template_works_as_master(tmp_path: Path) -> None:
    template = tmp_path / "corporate.potx"
    with zipfile.ZipFile(DEFAULT_MASTER) as src, zipfile.ZipFile(template, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"presentationml.presentation.main+xml",
                                    b"presentationml.template.main+xml")
            dst.writestr(item, data)
    _, prs = render(standard_model(), tmp_path / "deck.pptx", master=template)
    assert titles(prs)[0] == standard_model().title


@pytest.mark.parametrize("content", [None, b"not a zip file"])
def test_missing_or_unreadable_master_is_a_render_error(tmp_path: Path, content) -> None:
    master = tmp_path / "master.pptx"
    if content is not None:
        master.write_bytes(content)
    with pytest.raises(RenderError, match=re.escape(str(master))):
        render_pptx(standard_model(), tmp_path / "deck.pptx", master=master)


def test_default_master_is_what_build_master_produces(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_master", BUILD_MASTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build_master(tmp_path / "master.pptx")

    def members(path: Path) -> dict[str, bytes]:  # compressed bytes vary with zlib versions
        with zipfile.ZipFile(path) as package:
            return {name: package.read(name) for name in package.namelist()}

    assert members(built) == members(DEFAULT_MASTER), (
        "report_templates/qbr/master.pptx is stale: run report_templates/qbr/build_master.py")


# ---------- atomic writes ----------


def test_failed_render_leaves_nothing_behind(tmp_path: Path) -> None:
    base = standard_model()
    broken = dataclasses.replace(base.sections[0].figures[0], native=NativeChart(
        chart_type="line", categories=("Sep", "Oct"), series=(Series("CSAT", (0.8,)),)))
    model = dataclasses.replace(base, sections=(
        dataclasses.replace(base.sections[0], figures=(broken,)),))
    out = tmp_path / "out" / "deck.pptx"
    with pytest.raises(RenderError, match="series 'CSAT' has 1 values for 2 categories"):
        render_pptx(model, out)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_failure_while_writing_keeps_the_previous_deck(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "deck.pptx"
    render_pptx(standard_model(), out)
    before = out.read_bytes()

    def disk_full(self, file) -> None:
        Path(file).write_bytes(b"PK\x03\x04 half a deck")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pptx.presentation.Presentation.save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        render_pptx(standard_model(), out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.pptx"]


# ---------- LibreOffice ----------


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    """Decks converted in one LibreOffice run: the long-table deck, the standard deck on a
    master whose "dark 2" colour is 7A1F5C, and a deck where every text is too long."""
    folder = tmp_path_factory.mktemp("libreoffice")
    render_pptx(long_table_model(), folder / "default.pptx")
    render_pptx(standard_model(), folder / "custom.pptx",
                master=master_copy(folder, dk2="7A1F5C"))
    render_pptx(crowded_model(), folder / "crowded.pptx")
    decks = [folder / f"{name}.pptx" for name in ("default", "custom", "crowded")]
    pdfs = convert_all_to_pdf(decks, folder / "pdf")
    return {path.stem: (Presentation(str(folder / f"{path.stem}.pptx")), path) for path in pdfs}


@pytest.mark.slow
def test_libreoffice_converts_the_deck_to_one_page_per_slide(converted) -> None:
    prs, pdf = converted["default"]
    pages = PdfReader(str(pdf)).pages
    assert len(pages) == len(prs.slides)
    for page, title in zip(pages, titles(prs), strict=True):
        assert " ".join(title.split()) in " ".join(page.extract_text().split())
    scorecard = titles(prs).index("KPI scorecard")
    assert long_table_model().summary_kpis[0].value_text in pages[scorecard].extract_text()


@pytest.mark.slow
def test_custom_master_colour_is_what_the_reader_sees(converted) -> None:
    prs, pdf = converted["custom"]
    assert len(PdfReader(str(pdf)).pages) == len(prs.slides)
    page = pdfium.PdfDocument(str(pdf))[0]
    pixel = page.render(scale=0.25).to_pil().convert("RGB").getpixel((4, 4))
    assert pixel == pytest.approx((0x7A, 0x1F, 0x5C), abs=3)


@pytest.mark.slow
def test_crowded_text_stays_on_its_slide_and_off_the_footer(converted) -> None:
    prs, pdf = converted["crowded"]
    footer_top = 6.9 * 72  # the default master's footer band starts at 6.95 in
    with pdfplumber.open(str(pdf)) as document:
        assert len(document.pages) == len(prs.slides)
        for number, page in enumerate(document.pages, start=1):
            words = page.extract_words()
            assert words, f"slide {number} is empty"
            for word in words:
                where = f"slide {number}: {word['text']!r}"
                assert word["x0"] >= 0 and word["x1"] <= page.width, where
                assert word["top"] >= 0 and word["bottom"] <= page.height, where
                if word["top"] < footer_top:  # content must end above the footer band
                    assert word["bottom"] <= footer_top + 4, where


def test_libreoffice_helper_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LibreOfficeError, match="no such file"):
        convert_to_pdf(tmp_path / "missing.pptx")


# ---------- what the PDF's charts draw, drawn natively too ----------

CHART_NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
# The order CT_BarSer / CT_LineSer children must keep (ECMA-376 part 1, 21.2.2).
SER_ORDER = ("idx", "order", "tx", "spPr", "invertIfNegative", "pictureOptions", "marker",
             "dPt", "dLbls", "trendline", "errBars", "cat", "val", "shape", "smooth")


def chart_xml_values(element, path: str) -> list[float]:
    found = etree.XPath(path, namespaces=CHART_NS)(element)
    return [float(v) for v in found]


def combo_deck(tmp_path: Path, native: NativeChart):
    base = standard_model()
    figure = dataclasses.replace(base.sections[0].figures[0], title="Combo", native=native)
    model = dataclasses.replace(base, sections=(
        dataclasses.replace(base.sections[0], figures=(figure,)),))
    _, prs = render(model, tmp_path / "combo.pptx")
    return next(s for s in slides_titled(prs, "Combo")[0].shapes if s.has_chart).chart


def test_intervals_become_custom_error_bars_and_highlights_data_points(tmp_path: Path) -> None:
    values, low, high = (0.8, 0.7, None, 0.9), (0.75, 0.62, None, 0.88), (0.84, 0.77, None, 0.93)
    chart = combo_deck(tmp_path, NativeChart(
        chart_type="column", categories=("A", "B", "C", "D"), number_format="0%",
        series=(Series("CSAT", values, low=low, high=high, highlight=(1,)),
                Series("Target", (0.85,) * 4, role="target"))))
    space = chart._chartSpace
    (bars,) = etree.XPath(".//c:errBars", namespaces=CHART_NS)(space)
    plus = chart_xml_values(bars, "./c:plus/c:numLit/c:pt/c:v/text()")
    minus = chart_xml_values(bars, "./c:minus/c:numLit/c:pt/c:v/text()")
    assert plus == pytest.approx([0.04, 0.07, 0.03])  # high - value, C has no interval
    assert minus == pytest.approx([0.05, 0.08, 0.02])  # value - low
    assert etree.XPath("./c:plus/c:numLit/c:pt/@idx", namespaces=CHART_NS)(bars) == ["0", "1",
                                                                                    "3"]
    assert etree.XPath(".//c:barChart/c:ser/c:dPt/c:idx/@val", namespaces=CHART_NS)(space) == [
        "1"]
    target = etree.XPath(".//c:lineChart/c:ser", namespaces=CHART_NS)(space)
    assert len(target) == 1 and chart_xml_values(target[0], ".//c:val//c:v/text()") == [0.85] * 4
    # The target shares the bars' axes: one value axis in all.
    assert len(etree.XPath(".//c:valAx", namespaces=CHART_NS)(space)) == 1
    for ser in etree.XPath(".//c:ser", namespaces=CHART_NS)(space):
        tags = [etree.QName(child).localname for child in ser]
        assert tags == sorted(tags, key=SER_ORDER.index), tags


def test_cumulative_share_and_cut_go_on_a_secondary_axis(tmp_path: Path) -> None:
    chart = combo_deck(tmp_path, NativeChart(
        chart_type="column", categories=("A", "B", "C"), number_format="#,##0",
        series=(Series("Count", (60.0, 30.0, 10.0), highlight=(0, 1)),
                Series("Cumulative share", (0.6, 0.9, 1.0), role="cumulative"),
                Series("80% cut", (0.8,) * 3, role="threshold"))))
    space = chart._chartSpace
    line_charts = etree.XPath(".//c:lineChart", namespaces=CHART_NS)(space)
    assert len(line_charts) == 1
    names = etree.XPath("./c:ser/c:tx//c:v/text()", namespaces=CHART_NS)(line_charts[0])
    assert names == ["Cumulative share", "80% cut"]
    bar_axes = etree.XPath(".//c:barChart/c:axId/@val", namespaces=CHART_NS)(space)
    line_axes = etree.XPath("./c:axId/@val", namespaces=CHART_NS)(line_charts[0])
    assert set(bar_axes).isdisjoint(line_axes)
    secondary = [ax for ax in etree.XPath(".//c:valAx", namespaces=CHART_NS)(space)
                 if etree.XPath("./c:axId/@val", namespaces=CHART_NS)(ax)[0] in line_axes]
    assert len(secondary) == 1
    assert etree.XPath("./c:axPos/@val", namespaces=CHART_NS)(secondary[0]) == ["r"]
    assert etree.XPath("./c:numFmt/@formatCode", namespaces=CHART_NS)(secondary[0]) == ["0%"]
    assert chart_xml_values(secondary[0], "./c:scaling/c:max/@val") == [1.0]


def test_overlay_lines_cannot_be_asked_of_horizontal_bars(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="horizontal bars"):
        combo_deck(tmp_path, NativeChart(
            chart_type="bar", categories=("A", "B"),
            series=(Series("CSAT", (0.8, 0.7)), Series("Target", (0.85, 0.85), role="target"))))


def test_a_single_section_kpi_heads_the_first_chart_instead_of_a_table(tmp_path: Path) -> None:
    base = standard_model()
    section = base.sections[0]
    extra = dataclasses.replace(section.kpis[0], metric=dataclasses.replace(
        section.kpis[0].metric, metric_id="fcr", label="One-touch resolution"),
        value_text="57.3%", status_text="On target")
    model = dataclasses.replace(base, sections=(dataclasses.replace(section, kpis=(extra,)),))
    _, prs = render(model, tmp_path / "strip.pptx")
    assert not slides_titled(prs, f"{section.title}: scorecard")
    slide = slides_titled(prs, section.figures[0].title)[0]
    strip = next(s for s in slide.shapes if s.name == "KPI")
    assert strip.text_frame.text.startswith("One-touch resolution: 57.3%")
    assert "On target" in strip.text_frame.text
    chart = next(s for s in slide.shapes if s.has_chart)
    assert chart.top >= strip.top + strip.height  # the chart starts below the line


def test_a_one_row_table_is_a_list_of_its_cells(tmp_path: Path) -> None:
    base = standard_model()
    table = base.sections[0].tables[0]
    one = dataclasses.replace(table, rows=table.rows[:1])
    model = dataclasses.replace(base, sections=(
        dataclasses.replace(base.sections[0], tables=(one,)),))
    _, prs = render(model, tmp_path / "one.pptx")
    slide = slides_titled(prs, table.title)[0]
    assert not [s for s in slide.shapes if s.has_table]
    body = text_placeholder_text(slide)
    for column, cell in zip(table.columns, table.rows[0], strict=True):
        assert f"{column.label}: {cell.text}" in body
