"""The XLSX appendix, read back with openpyxl: every table and chart's data, typed, in words.

The demo MQR's workbook comes from the session's one build of the demo MQR, whose
definition asks for it beside the PDF.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pdfplumber
import pytest
from openpyxl import load_workbook
from support import chart_factories as f
from support.demo_csat import CSAT_TARGET, csat_by_queue_and_month
from support.factories import sample_model
from support.libreoffice import convert_to_pdf

from reportgen import text
from reportgen.errors import RenderError
from reportgen.render import xlsx as xlsx_renderer
from reportgen.render.xlsx import SheetNames, render_xlsx
from reportgen.render.xlsx_cells import number_format
from reportgen.render.xlsx_rows import figure_rows
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import Cell, Column, Figure, Table

pytestmark = pytest.mark.slow

#: Text a reader would take for a number: 81.2, -3.1, 1,234, 81.2%, +2.0 pts, 75.8–80.4%,
#: 2026-09, 2026-09-14 (a number or a date kept as text is what the workbook must not hold).
NUMERIC_TEXT = re.compile(
    r"[+\-−±]?\d[\d,]*(\.\d+)?\s*(%|pts?|points)?"
    r"|[+\-−]?\d[\d,]*(\.\d+)?\s*[–-]\s*[+\-−]?\d[\d,]*(\.\d+)?\s*%?"
    r"|\d{4}-\d{2}(-\d{2})?")
SNAKE_CASE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def demo_workbook(demo_mqr_xlsx):
    """The demo MQR's workbook, rendered through its definition's outputs."""
    model, path = demo_mqr_xlsx
    assert path.name == "monthly-quality-2026-09.xlsx"
    return model, load_workbook(path)


def contents_listing(book) -> dict[str, tuple[str, str, int]]:
    """Sheet name -> (kind, title, rows) from the Contents sheet's list of sheets."""
    rows = list(book["Contents"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[:4] == ("Sheet", "Contents", "Title", "Rows"))
    listing = {}
    for row in rows[start + 1:]:
        if not row or row[0] is None or row[1] is None:
            break
        listing[row[0]] = (row[1], row[2], row[3])
    return listing


def sheet_for(book, kind: str, title: str):
    matches = [name for name, (k, t, _) in contents_listing(book).items() if (k, t) == (kind, title)]
    assert len(matches) == 1, f"{kind} '{title}': sheets {matches}"
    return book[matches[0]]


def header(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def test_every_table_and_chart_has_a_sheet_with_all_its_rows(demo_workbook) -> None:
    model, book = demo_workbook
    tables = [t for s in model.sections for t in s.tables]
    figures = [f for s in model.sections for f in s.figures]
    assert tables and figures
    for table in tables:
        sheet = sheet_for(book, "table", table.title)
        assert sheet.max_row - 1 == len(table.rows)
        assert sheet.freeze_panes == "B2"
    for figure in figures:
        sheet = sheet_for(book, "chart data", figure.title)
        length = len(next(iter(figure.data.values())))
        assert sheet.max_row - 1 == length, figure.id
        assert sheet.max_column == len(figure.data)
        assert sheet.freeze_panes == "A2"


def test_numeric_looking_cells_are_numbers_and_dates_are_dates(demo_workbook) -> None:
    _, book = demo_workbook
    numbers = 0
    for sheet in book.worksheets:
        first = 1 if sheet.title == "Contents" else 2
        for row in sheet.iter_rows(min_row=first):
            for cell in row:
                if isinstance(cell.value, str):
                    assert not NUMERIC_TEXT.fullmatch(cell.value.strip()), (
                        f"{sheet.title}!{cell.coordinate} holds a number as text: {cell.value!r}")
                elif isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    numbers += 1
                    assert cell.data_type == "n"
    assert numbers > 500  # the check looked at a real workbook, not an empty one
    periods = [c.value for c in book["Metric history"]["B"][1:]]
    assert periods and all(isinstance(p, datetime | date) for p in periods)


def test_no_header_is_snake_case(demo_workbook) -> None:
    model, book = demo_workbook
    for sheet in book.worksheets[1:]:
        names = header(sheet)
        assert all(isinstance(n, str) and n.strip() for n in names), (sheet.title, names)
        assert not [n for n in names if SNAKE_CASE.match(n)], (sheet.title, names)
        assert len({n.casefold() for n in names}) == len(names), (sheet.title, names)
    # the words the PDF uses: a table's labels, a metric's label from the plan
    sla = next(t for s in model.sections for t in s.tables if t.title == "First-reply SLA by channel")
    assert header(sheet_for(book, "table", sla.title))[:2] == [c.label for c in sla.columns[:2]]
    trend = next(f for s in model.sections for f in s.figures if f.id == "csat_trend")
    assert model.metrics["csat"].label in header(sheet_for(book, "chart data", trend.title))


def test_sheet_names_are_whole_and_the_contents_link_every_sheet(demo_workbook) -> None:
    model, book = demo_workbook
    names = book.sheetnames
    assert all(len(n) <= 31 and "…" not in n and "..." not in n for n in names)
    assert len({n.casefold() for n in names}) == len(names)
    listing = contents_listing(book)
    assert set(listing) | {"Contents"} == set(names)
    titles = {title for _, title, _ in listing.values()}
    long_titles = [t.title for s in model.sections for t in (*s.tables, *s.figures)
                   if len(t.title) > 31]
    assert long_titles and set(long_titles) <= titles  # full titles, where names are short
    for name, title in ((n, t) for n, (_, t, _) in listing.items()):
        # a shortened name keeps whole words of its title, in order
        words = name.split(" (")[0].split()
        assert all(w in title.split() for w in words), (name, title)
    contents = book["Contents"]
    links = {c.value: linked_sheet(c.hyperlink.location) for row in contents.iter_rows()
             for c in row if c.hyperlink is not None}
    for name, (_, title, _) in listing.items():
        assert links[name] == links[title] == name


def linked_sheet(location: str) -> str:
    """The sheet an internal link opens: ``'CSAT by queue'!A1`` -> ``CSAT by queue``."""
    sheet, _, cell = location.rpartition("!")
    assert cell == "A1"
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet


def test_an_interval_is_two_numbers_around_its_value(demo_workbook) -> None:
    model, book = demo_workbook
    checked = 0
    sheets = [(book["Metrics"], "Value"), (book["Metric history"], "Value")]
    sheets += [(sheet_for(book, "table", t.title), next(c.label for c in t.columns if c.key == "value"))
               for s in model.sections for t in s.tables]
    sheets += [(sheet_for(book, "chart data", f.title), model.metrics[f.metric_id].label)
               for s in model.sections for f in s.figures if f.kind in ("bar", "trend")]
    for sheet, value_name in sheets:
        names = header(sheet)
        lows = [i for i, n in enumerate(names) if n.endswith(", low")]
        assert lows, sheet.title
        value = names.index(value_name)
        for low in lows:
            high = names.index(names[low].removesuffix(", low") + ", high")
            for row in sheet.iter_rows(min_row=2):
                triple = (row[low].value, row[value].value, row[high].value)
                if any(v is None for v in triple):
                    continue
                assert all(isinstance(v, float | int) for v in triple), (sheet.title, triple)
                assert row[low].number_format == row[value].number_format == row[high].number_format
                # (a Wilson interval at 0 successes starts at 3e-17, float noise, not an error)
                assert triple[0] - 1e-12 <= triple[1] <= triple[2] + 1e-12, (sheet.title, triple)
                checked += 1
    assert checked > 50


def test_table_intervals_hold_the_numbers_the_pdf_prints(demo_workbook) -> None:
    model, book = demo_workbook
    table = next(t for s in model.sections for t in s.tables if t.title == "First-reply SLA by channel")
    sheet = sheet_for(book, "table", table.title)
    names = header(sheet)
    position = [c.key for c in table.columns].index("interval")
    label = table.columns[position].label
    low, high = names.index(f"{label}, low"), names.index(f"{label}, high")
    for model_row, cells in zip(table.rows, sheet.iter_rows(min_row=2), strict=True):
        printed = model_row[position].text
        if not printed:
            assert cells[low].value is None and cells[high].value is None
            continue
        assert text.interval(cells[low].value, cells[high].value, "percent") == printed


def test_percent_cells_are_numbers_with_a_percent_format(demo_workbook) -> None:
    model, book = demo_workbook
    table = next(t for s in model.sections for t in s.tables
                 if t.title == "First-reply SLA by channel")
    sheet = sheet_for(book, "table", table.title)
    value_column = header(sheet).index(table.columns[1].label)
    for model_row, cells in zip(table.rows, sheet.iter_rows(min_row=2), strict=True):
        cell = cells[value_column]
        if model_row[1].value is None:  # withheld (too few observations)
            assert cell.value is None
            continue
        assert isinstance(cell.value, float), cell.value
        assert cell.value == pytest.approx(model_row[1].value)
        assert cell.number_format.endswith("%")
        assert 0 <= cell.value <= 1
    n_column = header(sheet).index("n")
    assert all(isinstance(r[n_column].value, int) for r in sheet.iter_rows(min_row=2))


def test_one_spelling_per_status(demo_workbook) -> None:
    _, book = demo_workbook
    labels = {text.status_label(s) for s in text.STATUSES}
    spellings: dict[str, set[str]] = {}
    for sheet in book.worksheets[1:]:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    said = cell.value.replace("_", " ").casefold()
                    if said in {label.casefold() for label in labels}:
                        spellings.setdefault(said, set()).add(cell.value)
    assert spellings, "no status in the workbook"
    assert all(found <= labels and len(found) == 1 for found in spellings.values()), spellings


def test_metrics_sheet_holds_every_metric_typed(demo_workbook) -> None:
    model, book = demo_workbook
    sheet = book["Metrics"]
    names = header(sheet)
    rows = {r[names.index("Metric id")].value: r for r in sheet.iter_rows(min_row=2)}
    assert set(rows) == set(model.metrics)
    csat = model.metrics["csat"]
    value = rows["csat"][names.index("Value")]
    assert value.value == pytest.approx(csat.value) and value.number_format == "0.0%"
    change = rows["csat"][names.index("Change")]
    assert change.value == pytest.approx(csat.change.delta * 100)  # points, not a fraction
    assert rows["csat"][names.index("p-value")].value == pytest.approx(csat.change.p_value)
    assert rows["csat"][names.index("Status")].value == text.status_label(csat.status)


def test_periods_are_dates_and_the_contents_carry_provenance(demo_workbook) -> None:
    model, book = demo_workbook
    trend = next(f for s in model.sections for f in s.figures if f.id == "csat_trend")
    sheet = sheet_for(book, "chart data", trend.title)
    names = header(sheet)
    first = sheet.cell(row=2, column=names.index("Period") + 1)
    assert isinstance(first.value, datetime | date)
    assert f"{first.value:%Y-%m}" == trend.data["period"][0]
    rates = [r[names.index("CSAT")] for r in sheet.iter_rows(min_row=2)]
    assert [c.value for c in rates] == pytest.approx(list(trend.data["csat"]))
    assert all(c.number_format.endswith("%") for c in rates)  # a rate series: percent cells
    counts = [r[names.index("CSAT, n")] for r in sheet.iter_rows(min_row=2)]
    assert all(isinstance(c.value, int) and c.number_format == "#,##0" for c in counts)
    facts = {r[0]: r[1] for r in book["Contents"].iter_rows(values_only=True) if r and r[0]}
    assert facts["Definition hash"] == model.provenance.definition_hash
    assert facts["Code version"] == model.provenance.code_version
    for name, digest in model.provenance.input_hashes.items():
        assert facts[name] == digest
    assert book["Contents"]["A1"].value == model.title


def test_the_scorecard_sheet_holds_each_queue_typed(demo_workbook, demo_dir) -> None:
    model, book = demo_workbook
    card = model.scorecard
    assert card is not None
    sheet = sheet_for(book, "scorecard", card.title)
    assert sheet.title == card.title  # whole, not cut
    names = header(sheet)
    labels = {c.metric_id: c.label for c in card.columns}
    csat, qa, tickets = labels["csat"], labels["qa_score"], labels["tickets"]
    assert names == ["Queue",
                     csat, f"{csat}, n", f"{csat}, change", f"{csat}, significant",
                     f"{csat}, status",
                     qa, f"{qa}, n", f"{qa}, change", f"{qa}, significant", f"{qa}, status",
                     # a count is its own n; no target, no status; no test, no significance
                     tickets, f"{tickets}, change"]
    rows = {r[0].value: dict(zip(names, r, strict=True)) for r in sheet.iter_rows(min_row=2)}
    shares, counts = csat_by_queue_and_month(demo_dir)
    assert set(shares.index) <= set(rows) and len(rows) == len(card.rows)
    csat_rows = {row.key[0]: row for row in model.metrics["csat"].breakdowns["queue"]}
    for queue, months in shares.iterrows():
        cells = rows[queue]
        assert cells[f"{csat}, n"].value == counts.loc[queue, "2026-09"], queue
        assert cells[f"{csat}, n"].number_format == "#,##0"
        if pd.isna(months["2026-09"]):
            assert cells[csat].value is None and cells[f"{csat}, status"].value is None
            continue
        assert isinstance(cells[csat].value, float) and cells[csat].number_format == "0.0%"
        assert cells[csat].value == pytest.approx(months["2026-09"]), queue
        if not pd.isna(months["2026-08"]):  # a change of a rate, in points
            change = cells[f"{csat}, change"]
            assert change.value == pytest.approx((months["2026-09"] - months["2026-08"]) * 100)
            assert change.number_format.startswith("+0.0") and '" pts"' in change.number_format
            assert cells[f"{csat}, significant"].value is csat_rows[queue].change.significant
        below = months["2026-09"] < CSAT_TARGET
        status = cells[f"{csat}, status"].value
        assert status == text.status_label(csat_rows[queue].status)
        assert (status == text.status_label("on_target")) is not below, queue
    # the other KPIs hold the model's unrounded values
    for metric_id, label in (("qa_score", qa), ("tickets", tickets)):
        for row in model.metrics[metric_id].breakdowns["queue"]:
            cell = rows[row.key[0]][label]
            assert cell.value == (None if row.suppressed else pytest.approx(row.value))
    assert all(isinstance(r[tickets].value, int) for r in rows.values())


def test_the_scorecard_trends_sheet_holds_each_queues_months(demo_workbook, demo_dir) -> None:
    model, book = demo_workbook
    card = model.scorecard
    assert card is not None
    sheet = sheet_for(book, "scorecard trends", f"{card.title}, trends")
    names = header(sheet)
    assert names == ["Queue", "Metric", "Period", "Value"]
    shares, _ = csat_by_queue_and_month(demo_dir)
    found: dict[str, dict[str, object]] = {}
    for queue, metric, period, value in sheet.iter_rows(min_row=2):
        assert isinstance(period.value, datetime | date) and period.number_format == "mmm yyyy"
        if metric.value == model.metrics["csat"].label:
            found.setdefault(queue.value, {})[f"{period.value:%Y-%m}"] = value
    assert set(found) == {row.label for row in card.rows}
    for queue, months in shares.iterrows():
        assert list(found[queue]) == list(months.index)  # 13 months, oldest first
        for month, share in months.items():
            cell = found[queue][month]
            if pd.isna(share):
                assert cell.value is None, (queue, month)
            else:
                assert cell.value == pytest.approx(share), (queue, month)
                assert cell.number_format.endswith("%")


#: one chart of every built-in kind, on the chart tests' sample metrics
CHART_CASES = {
    "trend": (f.csat, {}), "bar": (f.csat, {"by": "queue"}),
    "pareto": (f.dsat_reasons, {"by": "reason"}), "heatmap": (f.csat, {"by": "queue,channel"}),
    "distribution": (f.csat, {"legend_title": "Rating"}), "control": (f.dsat_reasons, {}),
    "spread": (f.qa_score, {"by": "queue,agent_id"}), "calibration": (f.qa_score, {}),
}


@pytest.mark.parametrize("kind", sorted(CHART_CASES))
def test_every_chart_kind_gives_worded_headers_and_typed_cells(kind: str) -> None:
    make, params = CHART_CASES[kind]
    metric = make()
    figure = dataclasses.replace(f.build(kind, f.request(metric, chart_id=kind), params),
                                 unit=metric.unit, metric_id=metric.metric_id)
    rows = figure_rows(figure, {metric.metric_id: metric})
    assert len(rows.header) == len(figure.data)
    assert not [h for h in rows.header if SNAKE_CASE.match(h) or h in figure.data
                and "_" in h], rows.header
    assert len({h.casefold() for h in rows.header}) == len(rows.header)
    for values in rows.values:
        assert not [v for v in values if isinstance(v, str) and NUMERIC_TEXT.fullmatch(v)], values
    for key, name in zip(figure.data, rows.header, strict=True):
        present = [v for v in figure.data[key] if v is not None]
        if key in ("n", "count") or key.endswith("_n"):
            assert all(isinstance(r[rows.header.index(name)], int) for r in rows.values
                       if r[rows.header.index(name)] is not None), name
        if present and all(isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}", v) for v in present):
            assert all(isinstance(r[rows.header.index(name)], date) for r in rows.values), name


def test_a_share_keeps_its_digits() -> None:
    # 21.1% of an auditor's reviews within tolerance is a share, not a score read as "0.2"
    assert number_format("percent", [0.2105]) == "0.0%"
    # two values one format would show alike get one more decimal; equal ones do not
    assert number_format("percent", [0.8231, 0.8234]) == "0.00%"
    assert number_format("percent", [0.8231, 0.8231]) == "0.0%"
    assert number_format("ratio", [0.21, 0.25]) == "0.00"
    assert number_format("count", [12, 13]) == "#,##0"
    assert number_format("change:percent", [1.25, 1.21]) == '+0.00" pts";-0.00" pts";0.00" pts"'


def test_sheet_names_are_unique_short_and_whole() -> None:
    names = SheetNames(reserved=["Contents"])
    long = "Defect rate by scorecard category and queue"
    first, second = names.claim(long, "table"), names.claim(long, "chart data")
    assert first == "Defect rate by scorecard"  # whole words, no dangling "by"
    assert len(second) <= 31 and second != first and second.endswith("(chart data)")
    assert names.claim("Auditor bias against the calibrator") == "Auditor bias against calibrator"
    assert names.claim("contents") != "contents"  # Excel compares names case-insensitively
    assert names.claim("a/b: [c]?") == "a-b- -c--"
    assert len(names.claim("Supercalifragilisticexpialidociousness-of-it")) == 31
    emoji = names.claim("Ticket volume 📈 by queue and channel")  # 📈 counts 2 in Excel
    assert emoji == "Ticket volume 📈 by queue" and len(emoji.encode("utf-16-le")) // 2 <= 31
    assert SheetNames(reserved=["History"]).claim("history") == "history (2)"


HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(A1:A2)", "#N/A", "=1+1", "<b>bold</b> & <script>x</script>",
           "Ärger 😀 数据 مرحبا", "tab\there", "bell\x07ring"]


def hostile_workbook(path: Path) -> Table:
    """A workbook whose queue names are what an export may hold: formulas, markup, any script."""
    base = sample_model(sections=1)
    table = Table(id="hostile", title="Queue names as exported",
                  columns=(Column("queue", "Queue"), Column("value", "CSAT", "right", "percent")),
                  rows=tuple((Cell(name), Cell("80.0%", 0.8)) for name in HOSTILE))
    model: ReportModel = dataclasses.replace(
        base, sections=(dataclasses.replace(base.sections[0], tables=(table,)),))
    render_xlsx(model, path)
    return table


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    table = hostile_workbook(tmp_path / "hostile.xlsx")
    sheet = sheet_for(load_workbook(tmp_path / "hostile.xlsx"), "table", table.title)
    cells = [r[0] for r in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(HOSTILE)
    assert [c.value for c in cells] == [*HOSTILE[:-1], "bell\N{REPLACEMENT CHARACTER}ring"]
    assert all(c.quotePrefix for c in cells[:6])  # kept as text when edited, too


def test_libreoffice_opens_formula_like_text_as_text(tmp_path: Path) -> None:
    hostile_workbook(tmp_path / "hostile.xlsx")
    pdf = convert_to_pdf(tmp_path / "hostile.xlsx", tmp_path / "pdf")
    with pdfplumber.open(pdf) as document:
        lines = [line.strip() for page in document.pages
                 for line in (page.extract_text() or "").splitlines()]
    for name in ('=HYPERLINK("http://evil.example","click")', "=1+1", "-2+3", "@SUM(A1:A2)"):
        assert any(line.startswith(name) for line in lines), name  # shown, not evaluated
    assert not any(line.startswith(("click ", "2 80.0%", "1 80.0%")) for line in lines)


def test_a_sheet_beyond_excels_rows_fails_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = sample_model(table_rows=20, sections=1)  # 13 months of history fit, 20 rows do not
    monkeypatch.setattr(xlsx_renderer, "MAX_ROWS", 15)
    with pytest.raises(RenderError, match=r"table 'CSAT by queue' has 20 rows, more than the 14"):
        render_xlsx(model, tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_chart_data_of_uneven_length_is_an_error_not_a_short_sheet(tmp_path: Path) -> None:
    base = sample_model(sections=1)
    figure = base.sections[0].figures[0]
    broken: Figure = dataclasses.replace(figure, data={"period": ("a", "b"), "value": (1.0,)})
    model: ReportModel = dataclasses.replace(
        base, sections=(dataclasses.replace(base.sections[0], figures=(broken,)),))
    with pytest.raises(RenderError, match="value has fewer than 2"):
        render_xlsx(model, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_difference_of_rates_is_stored_in_points_with_its_interval() -> None:
    from support.factories import sample_metric

    from reportgen.render.xlsx_rows import history_rows, metric_rows
    from reportgen.report.model.metric_results import Interval

    base = sample_metric("gap", "Re-contact gap per 10 QA points")
    gap = dataclasses.replace(base, unit="points", value=-0.042,
                              interval=Interval(-0.064, -0.02, 0.95, "cluster-robust"),
                              history=tuple(dataclasses.replace(
                                  p, value=-0.03, interval=Interval(-0.05, -0.01, 0.95, "x"))
                                  for p in base.history))
    rows = metric_rows([gap])
    header, (row,) = rows.header, rows.values
    value = row[header.index("Value")]
    low, high = row[header.index("Value") + 1], row[header.index("Value") + 2]
    assert (value, low, high) == pytest.approx((-4.2, -6.4, -2.0))
    assert number_format("points", [value]) == '+0.0" pts";-0.0" pts";0.0" pts"'
    history = history_rows([gap]).values
    assert history[0][2:5] == pytest.approx([-3.0, -5.0, -1.0])
