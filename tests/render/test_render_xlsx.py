"""The XLSX appendix, read back with openpyxl: every table and chart's data, typed."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from support.demo_models import demo_build
from support.factories import sample_model

from reportgen.errors import RenderError
from reportgen.render import xlsx as xlsx_renderer
from reportgen.render.xlsx import SheetNames, render_xlsx
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import Figure
from reportgen.run.build import render_outputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_workbook(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The demo MQR rendered through its definition's ``outputs: [{format: xlsx}]``."""
    loaded, result = demo_build(demo_dir, "monthly_quality_report.yaml", "2026-09",
                                outputs="[{format: xlsx}]")
    (artifact,) = render_outputs(loaded, result, tmp_path_factory.mktemp("xlsx"))
    assert artifact.format == "xlsx" and artifact.path.endswith("monthly-quality-2026-09.xlsx")
    return result.model, load_workbook(artifact.path)


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


def test_every_table_and_chart_has_a_sheet_with_all_its_rows(demo_workbook) -> None:
    model, book = demo_workbook
    tables = [t for s in model.sections for t in s.tables]
    figures = [f for s in model.sections for f in s.figures]
    assert tables and figures
    for table in tables:
        sheet = sheet_for(book, "table", table.title)
        assert sheet.max_row - 1 == len(table.rows)
        assert [c.value for c in sheet[1]] == [c.label for c in table.columns]
        assert sheet.freeze_panes == "B2"
    for figure in figures:
        sheet = sheet_for(book, "chart data", figure.title)
        length = len(next(iter(figure.data.values())))
        assert sheet.max_row - 1 == length, figure.id
        assert [c.value for c in sheet[1]] == list(figure.data)
        assert sheet.freeze_panes == "A2"
    listing = contents_listing(book)
    assert set(listing) | {"Contents"} == set(book.sheetnames)
    assert all(len(name) <= 31 for name in book.sheetnames)
    assert len({n.casefold() for n in book.sheetnames}) == len(book.sheetnames)


def test_percent_cells_are_numbers_with_a_percent_format(demo_workbook) -> None:
    model, book = demo_workbook
    table = next(t for s in model.sections for t in s.tables
                 if t.title == "First-reply SLA by channel")
    sheet = sheet_for(book, "table", table.title)
    value_column = [c.key for c in table.columns].index("value")
    for model_row, cells in zip(table.rows, sheet.iter_rows(min_row=2), strict=True):
        cell = cells[value_column]
        if model_row[value_column].value is None:  # withheld (too few observations)
            assert cell.value is None
            continue
        assert isinstance(cell.value, float), cell.value
        assert cell.value == pytest.approx(model_row[value_column].value)
        assert cell.number_format.endswith("%")
        assert 0 <= cell.value <= 1
    n_column = [c.key for c in table.columns].index("n")
    assert all(isinstance(r[n_column].value, int) for r in sheet.iter_rows(min_row=2))


def test_metrics_sheet_holds_every_metric_typed(demo_workbook) -> None:
    model, book = demo_workbook
    sheet = book["Metrics"]
    header = [c.value for c in sheet[1]]
    rows = {r[header.index("Id")].value: r for r in sheet.iter_rows(min_row=2)}
    assert set(rows) == set(model.metrics)
    csat = model.metrics["csat"]
    value = rows["csat"][header.index("Value")]
    assert value.value == pytest.approx(csat.value) and value.number_format == "0.0%"
    change = rows["csat"][header.index("Change")]
    assert change.value == pytest.approx(csat.change.delta * 100)  # points, not a fraction
    assert rows["csat"][header.index("p-value")].value == pytest.approx(csat.change.p_value)


def test_periods_are_dates_and_the_contents_carry_provenance(demo_workbook) -> None:
    model, book = demo_workbook
    trend = next(f for s in model.sections for f in s.figures if f.id == "csat_trend")
    sheet = sheet_for(book, "chart data", trend.title)
    header = [c.value for c in sheet[1]]
    first = sheet.cell(row=2, column=header.index("period") + 1)
    assert isinstance(first.value, datetime | date)
    assert f"{first.value:%Y-%m}" == trend.data["period"][0]
    rates = [r[header.index("csat")] for r in sheet.iter_rows(min_row=2)]
    assert [c.value for c in rates] == pytest.approx(list(trend.data["csat"]))
    assert all(c.number_format == "0.0%" for c in rates)  # a rate series: percent cells
    counts = [r[header.index("csat_n")] for r in sheet.iter_rows(min_row=2)]
    assert all(isinstance(c.value, int) and c.number_format == "#,##0" for c in counts)
    facts = {r[0]: r[1] for r in book["Contents"].iter_rows(values_only=True) if r and r[0]}
    assert facts["Definition hash"] == model.provenance.definition_hash
    assert facts["Code version"] == model.provenance.code_version
    for name, digest in model.provenance.input_hashes.items():
        assert facts[name] == digest
    assert book["Contents"]["A1"].value == model.title


def test_sheet_names_are_unique_and_short() -> None:
    names = SheetNames(reserved=["Contents"])
    long = "Defect rate by scorecard category and queue"
    first, second = names.claim(long), names.claim(long)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert names.claim("contents") != "contents"  # Excel compares names case-insensitively
    assert names.claim("a/b: [c]?") == "a-b- -c--"


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
