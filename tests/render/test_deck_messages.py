"""The demo QBR deck states its messages: chart titles say what the findings found, every
finding is on a slide, every chart is a native chart with its labels clear of its lines,
and the notes describe each chart as it is drawn.

Expectations come from the report model (its findings and figures), the deck is reopened
with python-pptx.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Emu
from support.demo_models import demo_model

from reportgen.render.pptx_chart_geometry import collisions, labels, read_geometry
from reportgen.render.pptx_deck import render_pptx
from reportgen.report.claims import check_claims, claims_of
from reportgen.text.headline import as_noun

NUMBER = re.compile(r"\d+(?:[.,]\d+)*%?")
HORIZONTAL = {XL_CHART_TYPE.BAR_CLUSTERED, XL_CHART_TYPE.BAR_STACKED,
              XL_CHART_TYPE.BAR_STACKED_100}
COLUMNS = {XL_CHART_TYPE.COLUMN_CLUSTERED, XL_CHART_TYPE.COLUMN_STACKED,
           XL_CHART_TYPE.COLUMN_STACKED_100}
LINES = {XL_CHART_TYPE.LINE, XL_CHART_TYPE.LINE_MARKERS}


@pytest.fixture(scope="module")
def model(demo_dir: Path):
    return demo_model(demo_dir, "qbr.yaml", "2026-Q3")


@pytest.fixture(scope="module")
def deck(model, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("deck") / "qbr.pptx"
    render_pptx(model, out)
    return Presentation(str(out))


def chart_slides(deck):
    """(slide, the figure id its chart frame names, the chart frame) per chart slide."""
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_chart:
                yield slide, shape.name.removeprefix("Chart "), shape


def body_text(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def all_findings(model):
    return [*model.findings, *(f for s in model.sections for f in s.findings)]


def test_chart_titles_state_a_finding_about_the_chart_s_metric(model, deck) -> None:
    figures = {f.id: f for s in model.sections for f in s.figures}
    stated = 0
    for slide, figure_id, _ in chart_slides(deck):
        figure = figures[figure_id]
        title = slide.shapes.title.text
        # the findings about this chart's metric, from the model
        about = [f for f in all_findings(model) if f.metric_id == figure.metric_id]
        source = next((f for f in about if f.sentence == figure.headline_of), None)
        if source is None:
            # no finding: what the chart draws, from its metric (else the chart's name)
            assert title in (figure.headlines or (figure.title,))
            continue
        stated += 1
        title = title.split(", most of it in the ")[0].split(", led by the ")[0]
        words = set(re.findall(r"[\w'%.+-]+", source.sentence.replace("’", "'")))
        # Every word of the title is a word of the finding, whole: none was cut mid-word.
        assert set(re.findall(r"[\w'%.+-]+", title)) <= words | {w.rstrip(".,:") for w in words}
        assert "\u2026" not in title
        # It states the finding's message: a number it reports, or its verb.
        numbers = set(NUMBER.findall(title)) & set(NUMBER.findall(source.sentence))
        verbs = {"fell", "rose", "is", "has", "sit", "scores", "are"} & set(title.split())
        assert numbers or verbs, title
    # The demo's findings cover most of its charts: CSAT, QA, defects, calibration, SLA.
    assert stated >= 5


def test_every_section_finding_is_on_a_slide_not_only_in_the_notes(model, deck) -> None:
    shown = "\n".join(body_text(s) for s in deck.slides)
    shown = " ".join(shown.split())
    for section in model.sections:
        for finding in section.findings:
            assert " ".join(finding.sentence.split()) in shown, finding.sentence


def test_findings_no_risk_or_win_states_get_a_slide_in_their_section(model, deck) -> None:
    readout = model.readout
    said = [i.text for i in (*readout.wins, *readout.risks)] if readout else []
    slides = {s.shapes.title.text: body_text(s) for s in deck.slides if s.shapes.title}
    with_slide = []
    for section in model.sections:
        unsaid = [f for f in section.findings if not any(f.sentence in t for t in said)]
        if not unsaid:
            continue
        body = " ".join(slides[f"{section.title}: findings"].split())
        assert all(" ".join(f.sentence.split()) in body for f in unsaid)
        with_slide.append(section.title)
    assert {"Quality", "Operations"} <= set(with_slide)


def test_no_slide_holds_a_picture(deck) -> None:
    for number, slide in enumerate(deck.slides, start=1):
        kinds = [s.shape_type for s in slide.shapes]
        assert MSO_SHAPE_TYPE.PICTURE not in kinds, number


def test_the_calibration_chart_is_native_horizontal_bars_with_the_tolerance(model, deck) -> None:
    figure = next(f for s in model.sections for f in s.figures if f.kind == "calibration")
    _, _, frame = next(c for c in chart_slides(deck) if c[1] == figure.id)
    chart = frame.chart
    assert chart.chart_type in HORIZONTAL
    names = [s.name for s in chart.plots[0].series]
    tolerance = figure.data["tolerance"][0]
    count = len(figure.data["auditor"])
    band = {tuple(s.values) for s in chart.plots[0].series if "Tolerance" in s.name}
    assert band == {(tolerance,) * count, (-tolerance,) * count}  # from -5 to +5 on each row
    bias = chart.plots[0].series[names.index("Bias")]
    assert tuple(bias.values) == pytest.approx(figure.data["bias"])
    assert tuple(chart.plots[0].categories) == figure.data["auditor"]


def test_no_data_label_collides_with_a_line_a_whisker_or_another_label(deck) -> None:
    counted = 0
    for slide, _, frame in chart_slides(deck):
        space = frame.chart._chartSpace
        size = (Emu(frame.width).pt, Emu(frame.height).pt)
        assert collisions(space, *size) == [], slide.shapes.title.text
        geometry = read_geometry(space, *size)
        counted += len(labels(space, geometry)) if geometry is not None else 0
    assert counted >= 40  # the demo's bar charts label some 50 values


def test_notes_describe_each_chart_in_the_orientation_it_is_drawn(deck) -> None:
    checked = 0
    for slide, _, frame in chart_slides(deck):
        notes = slide.notes_slide.notes_text_frame.text
        described = next(line for line in notes.splitlines() if line.startswith("Chart: "))
        shape = described.split(" of ")[0].lower()
        kind = frame.chart.chart_type
        if kind in HORIZONTAL:
            assert "horizontal bar" in shape, described
        elif kind in COLUMNS:
            assert "column" in shape and "horizontal" not in shape, described
        elif kind in LINES:
            assert "line chart" in shape, described
        checked += 1
        # Screen readers hear the same description.
        assert frame._element.xpath("./*[1]/p:cNvPr/@descr")[0] == described[len("Chart: "):]
    assert checked >= 9


def test_titles_are_claims_the_checker_reads_and_they_trace(model) -> None:
    titles = [c for c in claims_of(model) if "slide title" in c.where]
    headlines = [h for s in model.sections for f in s.figures for h in f.headlines]
    headlines += [h for s in model.sections for t in s.tables for h in t.headlines]
    assert len(titles) == len(headlines) > 0
    assert check_claims(model) == []


CALIBRATION_TITLE = re.compile(r"Auditor (?P<auditor>\w+) scores (?P<size>\d+\.\d) points "
                               r"(?P<side>above|below) the calibrator on average")


def test_the_calibration_title_states_the_bias_its_chart_draws(model, deck, demo_dir) -> None:
    """The title's number is the bar the chart draws for the auditor it names, and what the
    demo's calibration sessions give for that auditor (paired with the calibrator on the
    same session and ticket, Q3 2026)."""
    figure = next(f for s in model.sections for f in s.figures if f.kind == "calibration")
    slide, _, frame = next(c for c in chart_slides(deck) if c[1] == figure.id)
    title = slide.shapes.title.text
    said = CALIBRATION_TITLE.fullmatch(title)
    assert said is not None, title
    stated = float(said["size"]) * (1 if said["side"] == "above" else -1)
    plot = frame.chart.plots[0]
    bias = next(s for s in plot.series if s.name == "Bias")
    bars = dict(zip(plot.categories, bias.values, strict=True))
    assert bars[said["auditor"]] == pytest.approx(stated, abs=0.05)

    with sqlite3.connect(demo_dir / "reportgen_demo.sqlite") as db:
        rows = pd.read_sql("select * from calibration_reviews where session_date >= "
                           "'2026-07-01' and session_date < '2026-10-01'", db)
    key = rows[rows["role"] == "calibrator"][["session_id", "ticket_id", "review_score"]]
    paired = rows[rows["rater_id"] == said["auditor"]].merge(
        key, on=["session_id", "ticket_id"], suffixes=("", "_key"))
    gaps = paired["review_score"] - paired["review_score_key"]
    assert gaps.mean() == pytest.approx(stated, abs=0.05)
    # the average gap, a different number, is not the title's: the notes say it, in the
    # whole finding the title is cut from
    gap = f"{gaps.abs().mean():.1f}"
    assert gap not in title
    notes = slide.notes_slide.notes_text_frame.text
    assert f"The title states: {figure.headline_of}" in notes
    assert f"average gap from the calibrator is {gap} points" in notes


def table_slides(model, deck):
    """(slide, the model's table it shows, the table as the slide holds it) per slide of a
    section's table, found by the table's column headers."""
    tables = {tuple(c.label for c in t.columns): t for s in model.sections for t in s.tables}
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_table:
                headers = tuple(c.text for c in shape.table.rows[0].cells)
                if headers in tables:
                    yield slide, tables[headers], shape.table


def test_no_chart_or_table_slide_is_titled_with_its_name(model, deck) -> None:
    """Every chart and table slide of the demo deck states a message: a finding, or what
    its metric did or its rows show; none is titled with the name the definition gives the
    chart or the table."""
    names = {f.id: f.title for s in model.sections for f in s.figures}
    titles = {figure_id: slide.shapes.title.text for slide, figure_id, _ in chart_slides(deck)}
    assert titles.keys() == names.keys()
    assert [t for figure_id, t in titles.items() if t == names[figure_id]] == []
    tables = {table.id: (slide.shapes.title.text, table.title)
              for slide, table, _ in table_slides(model, deck)}
    assert tables.keys() == {t.id for s in model.sections for t in s.tables} != set()
    assert [title for title, name in tables.values() if name in title] == []


TABLE_TARGET_TITLE = re.compile(
    r"(?:All (?P<all>\d+)|(?P<k>\d+) of (?P<m>\d+)) .+ (?:is|are) (?P<state>off|at "
    r"risk of missing) the (?P<target>[\d.]+%?) (?P<label>.+) target(?:: (?P<listed>.+)|, "
    r"(?P<worst>.+) (?:lowest|highest) at (?P<value>[\d.,]+%?))?")
TABLE_RANGE_TITLE = re.compile(r"(?P<top>.+?) has the highest (?P<label>.+?): (?P<high>[\d.,]+%?)"
                               r"(?:, (?P<bottom>.+) the lowest: (?P<low>[\d.,]+%?))?")


def test_a_table_s_title_states_the_numbers_in_its_cells(model, deck) -> None:
    """A table slide's title counts the rows its Status column calls off target (or at
    risk) and names the furthest with the value its cell shows; a table without a target
    names its highest (and lowest) row as its cells show them.  Read back from the deck."""
    checked = set()
    for slide, table, shown in table_slides(model, deck):
        title = slide.shapes.title.text
        headers = [c.text for c in shown.rows[0].cells]
        rows = [[c.text for c in row.cells] for row in list(shown.rows)[1:]]
        metric = model.metrics[max((m for m in model.metrics if table.id.startswith(f"{m}_")),
                                   key=len)]
        value = headers.index(metric.label)
        values = {row[0]: row[value] for row in rows if NUMBER.fullmatch(row[value])}
        if said := TABLE_TARGET_TITLE.fullmatch(title):
            assert said["label"] == metric.label
            status = {row[0]: row[headers.index("Status")] for row in rows}
            state = "Off target" if said["state"] == "off" else "At risk"
            beyond = [segment for segment in values if status[segment] == state]
            assert len(beyond) == int(said["all"] or said["k"]) > 0
            assert len(values) == int(said["all"] or said["m"])
            named = [(m["segment"], m["value"]) for m in NAMED.finditer(said["listed"] or "")]
            if said["worst"]:
                # the furthest past the target, read off the cells
                furthest = (min if metric.direction == "higher" else max)(
                    beyond, key=lambda segment: number_of(values[segment]))
                assert said["worst"] == furthest
                named.append((said["worst"], said["value"]))
            for segment, number in named:
                assert segment in beyond and values[segment] == number, title
            target = number_of(said["target"]) / (100 if said["target"].endswith("%") else 1)
            assert target == pytest.approx(metric.target)
        else:
            said = TABLE_RANGE_TITLE.fullmatch(title)
            assert said is not None, title
            assert said["label"] == as_noun(metric.label)
            ranked = sorted(values, key=lambda segment: number_of(values[segment]))
            assert said["top"] == ranked[-1] and said["high"] == values[ranked[-1]]
            if said["bottom"]:
                assert said["bottom"] == ranked[0] and said["low"] == values[ranked[0]]
        checked.add(table.id)
    # CSAT by queue against its target; defect rate by scorecard category, no target
    assert checked == {"csat_queue_0", "defect_rate_category_0"}


def test_a_change_s_title_says_where_it_came_from_when_a_finding_split_it(model, deck) -> None:
    """CSAT's fall over the quarter is split by channel in a shown finding: the trend's
    title names the channel that carries most of it, as the finding's numbers say."""
    driver = next(f for f in all_findings(model) if f.kind == "driver" and f.metric_id == "csat")
    parts = {c["segment"]: c["total"] for c in driver.numbers["contributions"]}
    leading = driver.numbers["leading"][0]
    assert parts[leading] / driver.numbers["total"] > 0.5
    figure = next(f for s in model.sections for f in s.figures if f.id == "csat_trend")
    slide = next(s for s, figure_id, _ in chart_slides(deck) if figure_id == figure.id)
    title = slide.shapes.title.text
    assert title.startswith("CSAT fell ")
    # the split is of the fall the title states (read off the two shown values)
    assert driver.numbers["shown_total"] == pytest.approx(-figure.headline_numbers["shown_change"])
    assert title.endswith(f", most of it in the {leading.capitalize()} channel")


LEADER_TITLE = re.compile(r"(?P<segment>.+) has the most .+: (?P<value>[\d,.]+%?)(?: of [\d,]+)?")
TARGET_TITLE = re.compile(
    r"(?:All (?P<all>\d+)|(?P<k>\d+) of (?P<m>\d+)) .+ (?:is|are) (?P<state>off|at risk of "
    r"missing) the [\d.]+%? target(?:: (?P<listed>.+)|, (?P<worst>.+) "
    r"(?:lowest|highest) at (?P<value>[\d.,]+%?))?")
NAMED = re.compile(r"(?:^|, | and )(?P<segment>[^,()]+?) \((?P<value>[\d.,]+%?)\)")


def highlighted(frame) -> list[int]:
    """The indexes of the first series' points drawn in a colour of their own."""
    points = frame.chart.plots[0].series[0]._element.xpath("./c:dPt/c:idx/@val")
    return [int(i) for i in points]


def as_labelled(value: float, shown: str) -> float:
    """``value`` (a bar's) rounded as ``shown`` writes it (``24%``: 24; ``5,304``: 5304)."""
    places = len(shown.rstrip("%").split(".")[1]) if "." in shown else 0
    return round(value * (100 if shown.endswith("%") else 1), places)


def number_of(shown: str) -> float:
    return float(shown.rstrip("%").replace(",", ""))


def test_a_breakdown_s_title_states_the_numbers_on_its_bars(model, deck) -> None:
    """A bar chart no finding is about says how many bars miss the target, naming them (or
    the furthest) with the numbers the bars are labelled with (24% on both, not 24.5%
    above a bar labelled 24%); without a target, its largest bar."""
    checked, named_bars = set(), 0
    for slide, figure_id, frame in chart_slides(deck):
        title = slide.shapes.title.text
        plot = frame.chart.plots[0]
        bars = dict(zip(plot.categories, plot.series[0].values, strict=True))
        if said := LEADER_TITLE.fullmatch(title):
            assert max(bars.values()) == bars[said["segment"]]
            assert number_of(said["value"]) == as_labelled(bars[said["segment"]], said["value"])
        elif said := TARGET_TITLE.fullmatch(title):
            # the bars the chart highlights as off target (their colour), or those the model
            # holds at risk of missing it
            figure = next(f for s in model.sections for f in s.figures if f.id == figure_id)
            status = dict(zip(plot.categories, figure.data["status"], strict=True))  # drawn order
            if said["state"] == "off":
                beyond = {plot.categories[i] for i in highlighted(frame)}
                assert beyond == {c for c in bars if status[c] == "off_target"}
            else:
                assert not highlighted(frame)
                beyond = {c for c in bars if status[c] == "at_risk"}
            assert len(beyond) == int(said["all"] or said["k"])
            assert len(bars) == int(said["all"] or said["m"])
            named = [(m["segment"], m["value"]) for m in NAMED.finditer(said["listed"] or "")]
            named += [(said["worst"], said["value"])] if said["worst"] else []
            assert {segment for segment, _ in named} <= beyond  # a short title names none
            for segment, shown in named:
                assert number_of(shown) == as_labelled(bars[segment], shown), title
                named_bars += 1
        else:
            continue
        checked.add(figure_id)
    # tickets by channel; CSAT by queue and appeal overturns by policy area against targets
    assert checked == {"volume_by_channel", "csat_by_queue", "overturns"}
    assert named_bars >= 1  # the lowest queue's CSAT (a title too long for its box names none)
