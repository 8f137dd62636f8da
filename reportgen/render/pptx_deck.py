"""The QBR deck: a ``ReportModel`` as an editable PowerPoint file on a slide master.

Deck order: title; agenda; KPI scorecard; key findings (as wins, risks, initiatives and
asks when the model has a readout: each finding is said once); per section a divider (only when
the section has at least three slides of its own), a section scorecard (only for KPIs not
already on the main one; a single such KPI is a line above the section's first chart
instead), its findings not yet said on a slide of their own, one slide per figure (titled
with the message the model's headline states: a finding, else what its metric did) and the section's
tables; an appendix with data-quality
notes, the methodology and a provenance line.  A table of one row is never a table slide:
it reads as a short list.  Every slide but the title and dividers has a footer and a slide
number, and every slide has speaker notes with the narrative and the numbers behind it.

The renderer places model strings only (``Kpi.value_text``, ``Cell.text``,
``Finding.sentence``...) and, for native charts, the ``NativeChart`` values as given.
All slides are built in memory first; the file is then written atomically, so a failure
never leaves a half-written deck behind.

The master decides typography, backgrounds and geometry; the report ``Theme`` decides
data colours (chart series, status cells, tones) so the deck's charts match the PDF's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide, SlideLayout

from reportgen.errors import RenderError, ReportgenError
from reportgen.render.files import write_atomically
from reportgen.render.pptx_captions import (
    CAPTION_GAP,
    CAPTION_HEIGHT,
    KPI_STRIP_HEIGHT,
    SEP,
    add_caption,
    add_kpi_strip,
    fill_or_drop,
    strip_home,
)
from reportgen.render.pptx_charts import add_native_chart, add_picture
from reportgen.render.pptx_notes import (
    findings_notes,
    kpi_notes,
    method_notes,
    provenance,
    section_notes,
)
from reportgen.render.pptx_slides import (
    add_footer,
    bullet_colour,
    choose_title,
    content_box,
    open_master,
    resolve_layouts,
    set_notes,
    set_title,
    theme_font,
)
from reportgen.render.pptx_tables import (
    TableData,
    add_table,
    from_table,
    methodology,
    page_height,
    plan,
    scorecard,
    tone_colour,
)
from reportgen.render.pptx_text import use_font
from reportgen.render.templates import find_builtin
from reportgen.report.model.report_model import Artifact, ReportModel
from reportgen.report.model.sections import Figure, Finding, Kpi, Section, Table
from reportgen.text.dates import timestamp

__all__ = ["DEFAULT_MASTER", "render_pptx"]

DEFAULT_MASTER = find_builtin("qbr") / "master.pptx"
MAX_FINDINGS = 5  # a findings slide is read in under a minute; the rest go to the notes
MIN_SECTION_SLIDES = 3  # a divider before one or two slides is a page turned for nothing


def render_pptx(model: ReportModel, out_path: Path, *, master: Path | None = None) -> Artifact:
    """Render ``model`` as a QBR deck at ``out_path`` (written atomically).

    ``master`` is a .pptx whose slide master and layouts style the deck (default:
    ``report_templates/qbr/master.pptx``); it needs layouts named 'Title Slide',
    'Title and Content', 'Title Only' and 'Section Header'.  Raises ``RenderError``.
    """
    master_path = Path(master) if master is not None else DEFAULT_MASTER
    prs = open_master(master_path)
    layouts = resolve_layouts(prs, master_path)
    deck = _DeckBuilder(prs, layouts, model)
    try:
        with use_font(theme_font(prs)):
            deck.build()
    except ReportgenError:
        raise
    except Exception as exc:  # python-pptx and lxml raise many types; name where it broke
        raise RenderError(
            f"PPTX deck for report '{model.report_id}' failed at {deck.step}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return write_atomically(Path(out_path), "pptx", lambda tmp: prs.save(str(tmp)))


class _DeckBuilder:
    """Adds the deck's slides, in order, to a presentation opened on a master."""

    def __init__(self, prs: PresentationType, layouts: dict[str, SlideLayout],
                 model: ReportModel) -> None:
        self.prs = prs
        self.layouts = layouts
        self.model = model
        self.theme = model.theme
        self.content = content_box(prs, layouts["content"])
        self.footer = SEP.join(p for p in (model.organisation, model.title, model.period.label) if p)
        self.summary_ids = {k.metric.metric_id for k in model.summary_kpis}
        self.step = "opening the master"

    def build(self) -> None:
        self._title_slide()
        self._agenda()
        if self.model.summary_kpis:
            self._table_slides("KPI scorecard", scorecard(self.model.summary_kpis, self.theme),
                               notes=lambda rows: [kpi_notes(self.model.summary_kpis[rows])])
        if self._has_readout():
            self._readout()  # wins and risks are the key findings, sorted by what they mean
        else:
            self._findings()
        for section in self.model.sections:
            self._section(section)
        self._appendix()
        props = self.prs.core_properties
        props.title, props.subject = self.model.title, self.model.period.label
        props.author = self.model.owner or self.model.organisation
        props.last_modified_by = "reportgen"
        props.created = props.modified = _utc(self.model.generated_at)

    # --- slides -------------------------------------------------------------------------

    def _slide(self, role: str, title: str, notes: Sequence[str], *, footer: bool = True,
               headlines: Sequence[str] = ()) -> Slide:
        """A slide titled ``title``, or the longest of ``headlines`` that fits."""
        self.step = f"slide {len(self.prs.slides) + 1} ('{title}')"
        slide = self.prs.slides.add_slide(self.layouts[role])
        if headlines:
            title = choose_title(slide, headlines)
        shown = set_title(slide, title)
        if footer:
            add_footer(slide, self.footer, len(self.prs.slides))
        set_notes(slide, notes if shown == title else [f"Title: {title}", *notes])
        return slide

    def _title_slide(self) -> None:
        model = self.model
        generated = model.generated_text or timestamp(model.generated_at, model.period.timezone)
        lines = [model.subtitle, model.organisation, model.period.label, f"Generated {generated}",
                 *model.restatements]
        notes = [
            f"{model.title} for {model.organisation}, {model.period.label} "
            f"({model.period.date_range}, {model.period.timezone}).",
            f"Generated {generated}." + (f" Owner: {model.owner}." if model.owner else ""),
            *model.restatements,
            *(f"Data warning: {w}" for w in model.warnings),
        ]
        slide = self._slide("title", model.title, notes, footer=False)
        fill_or_drop(slide, [line for line in lines if line], space_after=0.2)

    def _agenda(self) -> None:
        front = "Scorecard and key findings"
        if self._has_readout():
            front = ("Scorecard, wins, risks, initiatives and asks" if self.model.actions
                     is not None else "Scorecard, wins and risks")
        items = [front, *(s.title for s in self.model.sections),
                 "Appendix: methodology and provenance"]
        notes = [f"{s.title}: {s.intro}" if s.intro else s.title for s in self.model.sections]
        slide = self._slide("content", "Agenda", notes or [front])
        fill_or_drop(slide, items)

    def _findings(self) -> None:
        findings = self.model.findings
        shown = findings[:MAX_FINDINGS]
        slide = self._slide("content", "Key findings", [
            findings_notes(shown, "Key findings"),
            findings_notes(findings[MAX_FINDINGS:], "Further findings"),
        ])
        sentences = [f.sentence for f in shown] or ["No findings this period."]
        paragraphs = fill_or_drop(slide, sentences)
        for paragraph, finding in zip(paragraphs, shown, strict=False):
            bullet_colour(paragraph, tone_colour(finding.tone, self.theme) or self.theme.neutral)

    def _has_readout(self) -> bool:
        readout = self.model.readout
        return readout is not None and bool(readout.wins or readout.risks)

    def _readout(self) -> None:
        """Wins, risks, initiatives and asks: what a business review decides on."""
        readout = self.model.readout
        if readout is None:
            return
        slides = [("Wins", readout.wins, "No significant improvement this period."),
                  ("Risks", readout.risks, "No significant decline this period.")]
        if self.model.actions is not None:
            slides += [("Initiatives", readout.initiatives, "No open actions."),
                       ("Asks: decisions needed", readout.asks,
                        "No decisions needed: every open action is on time and on target.")]
        for title, items, empty in slides:
            lines = [i.text for i in items] or [empty]
            slide = self._slide("content", title, [f"{title}:", *(f"- {t}" for t in lines)])
            paragraphs = fill_or_drop(slide, lines)
            for paragraph, item in zip(paragraphs, items, strict=False):
                bullet_colour(paragraph, tone_colour(item.tone, self.theme) or self.theme.neutral)

    def _section(self, section: Section) -> None:
        context = section_notes(section)
        extra = [k for k in section.kpis if k.metric.metric_id not in self.summary_ids]
        # One KPI does not make a table: it heads the section's first chart instead.
        strip = extra if len(extra) == 1 and section.figures else []
        card = scorecard(extra, self.theme) if extra and not strip else None
        tables = [(t, from_table(t, self.theme)) for t in section.tables]
        findings = self._unsaid(section.findings)
        own_slides = (len(section.figures) + (self._slide_count(card, False) if card else 0)
                      + (1 if findings else 0)
                      + sum(self._slide_count(data, True) for _, data in tables))
        if own_slides >= MIN_SECTION_SLIDES:
            slide = self._slide("section", section.title, [section.intro, *context],
                                footer=False)
            fill_or_drop(slide, [section.intro] if section.intro else [], space_after=0.0)
        else:
            context = [section.intro, *context]
        if card is not None:
            self._table_slides(f"{section.title}: scorecard", card,
                               notes=lambda rows: [kpi_notes(extra[rows]), *context[1:]])
        if findings:
            self._section_findings(section, findings)
        home = strip_home(section.figures, strip[0]) if strip else 0
        for index, figure in enumerate(section.figures):
            self._figure(figure, context, strip if index == home else [])
        for table, data in tables:
            def table_notes(_rows: slice, t: Table = table) -> list[str]:
                return [t.title, t.note, *context]

            def table_caption(_last: bool, t: Table = table) -> str:
                return t.note

            self._table_slides(table.title or section.title, data,
                               notes=table_notes, caption=table_caption,
                               headlines=table.headlines)

    def _unsaid(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings no wins or risks slide has stated already (each is said once)."""
        readout = self.model.readout if self._has_readout() else None
        said = [] if readout is None else [i.text for i in (*readout.wins, *readout.risks)]
        return [f for f in findings if not any(f.sentence in text for text in said)]

    def _section_findings(self, section: Section, findings: Sequence[Finding]) -> None:
        """The section's findings on a slide of their own, before its charts."""
        shown = findings[:MAX_FINDINGS]
        details = [f"{f.sentence} ({f.detail})" if f.detail else f.sentence for f in shown]
        slide = self._slide("content", f"{section.title}: findings", [
            "Findings:\n" + "\n".join(f"- {d}" for d in details),
            findings_notes(findings[MAX_FINDINGS:], "Further findings"),
            kpi_notes(section.kpis)])
        paragraphs = fill_or_drop(slide, [f.sentence for f in shown])
        for paragraph, finding in zip(paragraphs, shown, strict=False):
            bullet_colour(paragraph, tone_colour(finding.tone, self.theme) or self.theme.neutral)

    def _slide_count(self, data: TableData, captioned: bool) -> int:
        if len(data.rows) <= 1:
            return 1
        room = self.content.shrink_bottom(CAPTION_HEIGHT if captioned else 0)
        return len(plan(data, room)[2])

    def _figure(self, figure: Figure, context: Sequence[str],
                kpis: Sequence[Kpi] = ()) -> None:
        # A native chart may draw less than the PDF's picture; its own caption then says
        # only what it holds.
        caption = (figure.native.caption if figure.native else "") or figure.caption
        described = (figure.native.alt_text if figure.native else "") or figure.alt_text
        # The title is a finding cut to one line; the presenter reads the whole of it (the
        # calibration title's bias, then the average gap it leaves out).
        stated = [f"The title states: {figure.headline_of}"] if figure.headline_of else []
        notes = [f"Chart: {described}", caption, *stated, *context]
        slide = self._slide("title_only", figure.title, notes, headlines=figure.headlines)
        box = self.content
        if kpis:
            add_kpi_strip(slide, kpis[0], self.content)
            box = box.shrink_top(KPI_STRIP_HEIGHT)
        if caption:
            box = box.shrink_bottom(CAPTION_HEIGHT)
            add_caption(slide, caption, self.content)
        if figure.native is not None:
            add_native_chart(slide, box, figure, self.theme)
        else:
            add_picture(slide, box, figure)

    def _table_slides(self, title: str, data: TableData, *,
                      notes: Callable[[slice], Sequence[str]],
                      caption: Callable[[bool], str] | None = None,
                      headlines: Sequence[str] = ()) -> None:
        """One table over as many slides as it needs.

        ``notes(rows)`` gives the speaker notes for the slice of rows on a slide;
        ``caption(is_last_slide)`` the small text under the table, if any; ``headlines``:
        the first slide's title, the longest that fits (the rest continue ``title``).
        """
        has_caption = caption is not None
        if len(data.rows) == 1:
            self._row_slide(title, data, notes(slice(0, 1)), caption(True) if caption else "")
            return
        room = self.content.shrink_bottom(CAPTION_HEIGHT if has_caption else 0)
        data, widths, pages = plan(data, room)
        start = 0
        for i, page in enumerate(pages):
            rows = slice(start, start + len(page.rows))
            start = rows.stop
            shortened = ("Shortened on this slide, in full:\n"
                         + "\n".join(f"- {t}" for t in page.cut)) if page.cut else ""
            slide = self._slide("title_only", title if i == 0 else f"{title} (cont.)",
                                [*notes(rows), shortened],
                                headlines=headlines if i == 0 else ())
            add_table(slide, self.content, data, widths, page)
            text = caption(i == len(pages) - 1) if caption is not None else ""
            if text:
                # Right under the table, so the note reads as part of it.
                add_caption(slide, text, self.content, top=self.content.top + page_height(page) + CAPTION_GAP)

    def _row_slide(self, title: str, data: TableData, notes: Sequence[str],
                   caption: str) -> None:
        """A one-row table as a short list, "Column: value", one line per column."""
        row = data.rows[0]
        lines = [f"{header}: {cell.text}" if header else cell.text
                 for header, cell in zip(data.headers, row, strict=False) if cell.text]
        slide = self._slide("content", title, [*notes, *lines])
        fill_or_drop(slide, lines, space_after=0.2)
        if caption:
            add_caption(slide, caption, self.content)

    def _appendix(self) -> None:
        model = self.model
        about = "Methodology, data-quality notes and provenance"
        own_slides = (1 if model.warnings or model.provenance.data_quality else 0) + (
            self._slide_count(methodology(model.methodology), True) if model.methodology else 1)
        if own_slides >= MIN_SECTION_SLIDES:
            slide = self._slide("section", "Appendix", [about], footer=False)
            fill_or_drop(slide, [about], space_after=0.0)
        # the deck tells what the data left out as the PDF and the workbook do
        notes = [*model.warnings, *model.provenance.data_quality]
        if notes:
            slide = self._slide("content", "Data-quality notes", notes)
            fill_or_drop(slide, notes)
        line, full = provenance(model)
        if not notes:
            full = f"{full}. {model.provenance.quality_lines[0]}"
        notes_for = model.methodology
        if notes_for:
            self._table_slides(
                "Methodology", methodology(notes_for),
                notes=lambda rows: [*(method_notes(n) for n in notes_for[rows]), full],
                caption=lambda last: line if last else "",
            )
        else:
            slide = self._slide("title_only", "Provenance", [full])
            add_caption(slide, line, self.content)

def _utc(moment: datetime) -> datetime:
    """Naive UTC, which is what the package's core properties store."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
