"""Chart builders: what they draw, the data and text they return, and how they degrade.

Set REPORTGEN_CHART_PREVIEW=/some/dir to also write every chart's PNG there for review.
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import warnings
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib.figure
import pytest
from PIL import Image
from pydantic import BaseModel, ValidationError
from support import chart_factories as f

from reportgen.charts import CHARTS, ChartDataError, ChartError, params_model
from reportgen.charts.params import BUILTIN_PARAMS
from reportgen.charts.units import format_count, format_value
from reportgen.errors import InputError, UnknownNameError
from reportgen.report.model.metric_results import BreakdownRow
from reportgen.report.model.report_model import Theme
from reportgen.report.model.sections import Figure

SVG = "{http://www.w3.org/2000/svg}"
BUILTINS = {"trend", "bar", "pareto", "heatmap", "distribution", "control", "spread",
            "calibration"}
PREVIEW = os.environ.get("REPORTGEN_CHART_PREVIEW")


def draw(kind: str, *metrics: Any, chart_id: str | None = None, theme: Theme | None = None,
         **params: Any) -> Figure:
    """Build a chart with warnings as errors, and write a preview PNG when asked."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = f.build(kind, f.request(*metrics, chart_id=chart_id or kind,
                                         title=f"{kind} chart", theme=theme), params)
    if PREVIEW:
        folder = Path(PREVIEW)
        folder.mkdir(parents=True, exist_ok=True)
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
        stem = chart_id or f"{test.removeprefix('test_')}_{kind}"
        path, count = folder / f"{stem}.png", 1
        while path.exists():
            count += 1
            path = folder / f"{stem}_{count}.png"
        path.write_bytes(figure.png)
    return figure


def svg_texts(figure: Figure) -> str:
    """All text in the SVG (parsing it as XML on the way), joined by newlines."""
    root = ET.fromstring(figure.svg.encode())
    assert root.tag == f"{SVG}svg"
    chunks = []
    for tag in ("title", "desc", "text"):
        chunks += ["".join(el.itertext()) for el in root.iter(f"{SVG}{tag}")]
    return "\n".join(chunks)


def assert_png(figure: Figure) -> Image.Image:
    """The PNG is valid, 200 dpi at the figure's size, and not blank."""
    assert figure.png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(figure.png))
    image.verify()
    image = Image.open(io.BytesIO(figure.png))
    assert image.size == (round(figure.width_in * 200), round(figure.height_in * 200))
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 10, "PNG looks blank"
    return image


# Built once per module: rendering is the slow part, the assertions are cheap.
CASES: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "trend": ("trend", (f.csat(),), {}),
    "bar": ("bar", (f.csat(),), {"by": "queue"}),
    "pareto": ("pareto", (f.dsat_reasons(),), {"by": "reason"}),
    "heatmap": ("heatmap", (f.csat(),), {"by": "queue,channel"}),
    "distribution": ("distribution", (f.csat(),), {"legend_title": "Rating"}),
    "control": ("control", (f.dsat_reasons(),), {}),
    "spread": ("spread", (f.qa_score(),), {"by": "queue,agent_id"}),
    "calibration": ("calibration", (f.qa_score(),), {}),
}


@pytest.fixture(scope="module")
def built() -> dict[str, Figure]:
    return {name: draw(kind, *metrics, chart_id=name, **params)
            for name, (kind, metrics, params) in CASES.items()}


# --- every builder ---------------------------------------------------------------------


def test_builtins_are_registered_with_docs() -> None:
    assert set(CHARTS.names()) >= BUILTINS
    for name in BUILTINS:
        builder = CHARTS.instance(name)
        assert builder.name == name
        assert builder.description and builder.description.endswith(".")
        assert issubclass(builder.Params, BaseModel)
        for field_name, field in builder.Params.model_fields.items():
            assert field.description, f"{name}.{field_name} has no description"


def test_the_builtins_params_are_known_without_their_drawing_code() -> None:
    # the plan takes a built-in chart's params model from charts.params (no matplotlib):
    # it must be the very model its builder validates with
    assert set(BUILTIN_PARAMS) == BUILTINS
    for name in BUILTINS:
        assert params_model(name) is BUILTIN_PARAMS[name] is CHARTS.instance(name).Params
    with pytest.raises(UnknownNameError, match="did you mean 'trend'"):
        params_model("trnd")


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_chart_is_valid_svg_and_png(built: dict[str, Figure], name: str) -> None:
    figure = built[name]
    assert figure.id == name and figure.kind == CASES[name][0]
    texts = svg_texts(figure)
    assert f"{CASES[name][0]} chart" in texts  # the <title>
    assert figure.alt_text in texts  # the <desc>
    assert_png(figure)
    assert figure.width_in == pytest.approx(6.7)
    assert figure.caption.endswith(".")
    assert figure.alt_text.endswith(".") and "October 2026" in figure.alt_text
    assert figure.data and all(isinstance(v, tuple) for v in figure.data.values())
    assert len({len(v) for v in figure.data.values()}) == 1, "data columns differ in length"
    # Text stays text (selectable in the PDF) and in the theme font.
    assert "font-family: 'Inter'" in figure.svg


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_params_reject_unknown_keys(name: str) -> None:
    params = {"by": "queue"} if "by" in CHARTS.instance(name).Params.model_fields else {}
    with pytest.raises(ValidationError, match="bogus"):
        f.build(name, f.request(f.csat(), chart_id="c1"), {**params, "bogus": 1})


def test_unknown_chart_suggests_a_name() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'trend'"):
        f.build("trnd", f.request(f.csat()), {})


def test_missing_breakdown_names_chart_metric_and_choices() -> None:
    with pytest.raises(ChartDataError) as caught:
        f.build("bar", f.request(f.csat(), chart_id="csat_by_site"), {"by": "site"})
    message = str(caught.value)
    assert "chart 'csat_by_site' (bar)" in message
    assert "metric 'csat'" in message and "'site'" in message and "'queue'" in message
    assert isinstance(caught.value, InputError)


def test_same_input_gives_identical_output(built: dict[str, Figure]) -> None:
    again = draw("heatmap", f.csat(), chart_id="heatmap", by="queue,channel")
    assert again.svg == built["heatmap"].svg
    assert again.png == built["heatmap"].png


def test_figures_pickle_for_a_process_pool(built: dict[str, Figure]) -> None:
    assert pickle.loads(pickle.dumps(built["trend"])) == built["trend"]


def test_no_matplotlib_figure_outlives_a_build() -> None:
    def live() -> int:
        gc.collect()
        return sum(isinstance(o, matplotlib.figure.Figure) for o in gc.get_objects())

    before = live()
    draw("control", f.dsat_reasons())
    assert live() == before


def test_threads_do_not_mix_themes() -> None:
    themes = [Theme(), Theme(primary="#5A2D82", font_family="DejaVu Sans")]
    serial = [draw("trend", f.csat(), theme=t).svg for t in themes]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(lambda t: draw("trend", f.csat(), theme=t).svg, themes))
    assert parallel == serial
    assert "#5a2d82" in serial[1].lower() and "'DejaVu Sans'" in serial[1]


def test_missing_theme_font_falls_back_quietly(caplog: pytest.LogCaptureFixture) -> None:
    figure = draw("bar", f.csat(), theme=Theme(font_family="No Such Font"), by="queue")
    assert "No Such Font" not in figure.svg
    assert "font-family: 'Inter', 'DejaVu Sans'" in figure.svg
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


# --- trend -----------------------------------------------------------------------------


def test_trend_draws_the_history(built: dict[str, Figure]) -> None:
    metric = f.csat()
    figure = built["trend"]
    labels = tuple(p.label for p in metric.history)
    assert figure.data["label"] == labels
    assert figure.data["period"] == tuple(p.period for p in metric.history)
    assert figure.data["csat"] == tuple(p.value for p in metric.history)
    assert figure.data["csat_low"] == tuple(p.interval.low for p in metric.history if p.interval)
    assert figure.data["csat_n"] == tuple(p.n for p in metric.history)
    assert figure.data["target"] == (0.85,) * 13
    native = figure.native
    assert native is not None and native.chart_type == "line"
    assert native.categories == labels
    assert native.series[0].name == "CSAT" and native.series[0].values == figure.data["csat"]
    assert native.series[-1].name == "Target"
    assert native.number_format == "0%"
    assert native.y_min is not None and native.y_max is not None
    assert native.y_min < min(figure.data["csat_low"]) and native.y_max > 0.87
    assert figure.alt_text == (
        "Line chart of CSAT by month from Oct 25 to Oct 26; October 2026 is 81.2%, down from "
        "85.3% in Sep 26, below the 85.0% target."
    )
    texts = svg_texts(figure)
    for label in ("81.2%", "Oct 25", "Oct 26", "Target", "85.0%"):
        assert label in texts
    assert "Whiskers: 95% intervals." in figure.caption and "Wilson" not in figure.caption


def test_trend_leaves_suppressed_periods_as_gaps() -> None:
    history = list(f.csat().history)
    # A suppressed point keeps its raw value in the model; it must still not be drawn.
    history[4] = replace(history[4], value=0.5, suppressed="n = 12 < 30")
    figure = draw("trend", f.csat(history=tuple(history)), chart_id="trend_gap")
    assert figure.data["csat"][4] is None
    assert figure.data["csat_low"][4] is None
    assert figure.native is not None and figure.native.series[0].values[4] is None
    assert figure.native.y_min is not None and figure.native.y_min > 0.5
    assert "50.0%" not in svg_texts(figure)
    assert "n/a" in svg_texts(figure)
    assert "Not shown: Feb 26 (n = 12 < 30)." in figure.caption


def test_trend_with_a_suppressed_current_period_says_so() -> None:
    history = f.history(f.CSAT_VALUES, suppressed={12: "n = 9 < 30"})
    figure = draw("trend", f.csat(history=history, value=None))
    assert figure.data["csat"][-1] is None
    assert "October 2026 has no reported value (n = 9 < 30)" in figure.alt_text


def test_trend_with_one_period() -> None:
    figure = draw("trend", f.csat(history=f.history((0.812,))), chart_id="trend_one")
    assert figure.data["csat"] == (0.812,)
    assert figure.native is not None and figure.native.categories == ("Oct 26",)
    assert "(one month of history)" in figure.alt_text and "81.2%" in figure.alt_text
    assert_png(figure)


def test_trend_with_all_values_equal_has_a_real_axis() -> None:
    metric = f.qa_score(history=f.history((80.0,) * 13, half_width=None), target=None)
    figure = draw("trend", metric, chart_id="trend_flat")
    assert figure.native is not None and figure.native.y_min is not None
    assert figure.native.y_max - figure.native.y_min >= 1.0  # type: ignore[operator]
    assert figure.native.y_min < 80.0 < figure.native.y_max  # type: ignore[operator]
    assert figure.alt_text.endswith("October 2026 is 80.0, unchanged from Sep 26.")
    assert "target" not in figure.data


def test_trend_draws_extra_metrics_of_the_same_unit() -> None:
    figure = draw("trend", f.csat(), f.dsat_reasons(), chart_id="trend_multi")
    assert figure.data["dsat"] == tuple(p.value for p in f.dsat_reasons().history)
    assert figure.native is not None
    assert [s.name for s in figure.native.series] == ["CSAT", "DSAT", "Target"]
    assert "also shown: DSAT at 18.8%" in figure.alt_text
    assert "18.8%" in svg_texts(figure)


def test_trend_refuses_metrics_of_different_units() -> None:
    with pytest.raises(ChartError, match="'qa_score' is in score but 'csat' is in percent"):
        draw("trend", f.csat(), f.qa_score())


def test_trend_params_switch_off_interval_and_target() -> None:
    figure = draw("trend", f.csat(), show_interval=False, show_target=False)
    assert set(figure.data["csat_low"]) == {None}
    assert "target" not in figure.data
    assert figure.native is not None and [s.name for s in figure.native.series] == ["CSAT"]
    assert "Target" not in svg_texts(figure)


def test_trend_without_history_is_a_no_data_figure() -> None:
    figure = draw("trend", f.csat(history=()), chart_id="trend_empty")
    assert figure.data == {} and figure.native is None
    assert figure.alt_text == "No data for CSAT history in October 2026."
    assert "No data for CSAT history in October 2026" in svg_texts(figure)
    assert_png(figure)


# --- bar -------------------------------------------------------------------------------


def test_bar_ranks_segments_best_first(built: dict[str, Figure]) -> None:
    figure = built["bar"]
    shown = sorted((r for r in f.QUEUE_ROWS if r.suppressed is None),
                   key=lambda r: -(r.value or 0))
    assert figure.data["queue"] == (*(r.key[0] for r in shown), "Legal")
    assert figure.data["value"] == (*(r.value for r in shown), None)
    assert figure.data["n"] == (*(r.n for r in shown), 4)
    # With a target line the slide chart draws columns: a line cannot cross horizontal bars.
    assert figure.native is not None and figure.native.chart_type == "column"
    assert figure.native.categories == figure.data["label"]
    assert figure.native.series[0].values == figure.data["value"]
    assert figure.native.series[0].low == figure.data["low"]
    assert figure.native.series[0].high == figure.data["high"]
    off = {i for i, status in enumerate(figure.data["status"]) if status == "off_target"
           and figure.data["value"][i] is not None}
    assert set(figure.native.series[0].highlight) == off and off
    target = [s for s in figure.native.series if s.role == "target"]
    assert [set(s.values) for s in target] == [{0.85}]
    texts = svg_texts(figure)
    for label in ("n = 310", "88.0%", "71.0%", "Target 85.0%", "Trust & Safety"):
        assert label in texts
    assert "Onboarding is best at 88.0% (n = 150)" in figure.alt_text
    assert "Billing is worst at 71.0% (n = 310)" in figure.alt_text
    assert "overall 81.2%" in figure.alt_text
    assert "Not shown: Legal (n = 4 < 30)." in figure.caption


def test_bar_does_not_draw_a_suppressed_value() -> None:
    rows = (*f.QUEUE_ROWS[:4], BreakdownRow(key=("Legal",), value=0.5, n=4,
                                            suppressed="n = 4 < 30"))
    figure = draw("bar", f.csat(breakdowns={"queue": rows}), by="queue")
    assert figure.data["value"][-1] is None
    assert "50.0%" not in svg_texts(figure)
    assert "suppressed (n = 4 < 30)" in svg_texts(figure)


def test_bar_lower_is_better_ranks_ascending() -> None:
    rows = (f.row("Chat", 9.5, 300), f.row("Email", 31.0, 500), f.row("Phone", 12.4, 200))
    metric = f.csat(unit="minutes", direction="lower", target=15.0, value=20.1,
                    breakdowns={"channel": rows}, metric_id="aht", label="Handle time")
    figure = draw("bar", metric, by="channel", horizontal=False, chart_id="bar_minutes")
    assert figure.data["channel"] == ("Chat", "Phone", "Email")
    assert figure.native is not None and figure.native.chart_type == "column"
    texts = svg_texts(figure)
    assert "Handle time (minutes)" in texts and "12.4 min" in texts
    assert "Chat is best at 9.5 min" in figure.alt_text


def test_bar_top_and_two_column_breakdown() -> None:
    figure = draw("bar", f.csat(), by="queue, channel", top=3, chart_id="bar_top")
    assert len(figure.data["value"]) == 3
    assert figure.data["queue"] == ("Onboarding", "Onboarding", "Onboarding")
    assert figure.data["channel"] == ("Phone", "Email", "Chat")
    assert "Top 3 of 14 shown." in figure.caption
    assert "11 more not shown" in figure.alt_text


def test_bar_with_all_values_equal() -> None:
    rows = tuple(f.row(q, 0.8, 100) for q in ("A", "B", "C"))
    figure = draw("bar", f.csat(breakdowns={"queue": rows}), by="queue")
    assert figure.data["value"] == (0.8, 0.8, 0.8)
    assert_png(figure)


def test_bar_with_empty_breakdown_is_a_no_data_figure() -> None:
    figure = draw("bar", f.csat(breakdowns={"queue": ()}), by="queue", chart_id="bar_empty")
    assert figure.data == {}
    assert "No data for CSAT by queue in October 2026" in svg_texts(figure)


# --- pareto ----------------------------------------------------------------------------


def test_pareto_counts_and_vital_few(built: dict[str, Figure]) -> None:
    figure = built["pareto"]
    expected = sorted(f.REASONS, key=lambda item: -item[1])
    assert figure.data["reason"] == tuple(name for name, _ in expected)
    assert figure.data["count"] == tuple(float(count) for _, count in expected)
    total = sum(count for _, count in expected)
    running = [sum(c for _, c in expected[: i + 1]) / total for i in range(len(expected))]
    assert figure.data["cumulative_share"] == pytest.approx(tuple(running))
    vital = next(i for i, share in enumerate(running) if share >= 0.8) + 1
    assert figure.data["vital_few"] == tuple(i < vital for i in range(len(expected)))
    assert figure.native is not None and figure.native.chart_type == "column"
    assert figure.native.categories == figure.data["label"]
    assert figure.native.series[0].values == figure.data["count"]
    assert "Language barrier" not in figure.data["reason"]
    assert "Not shown: Language barrier (n = 3 < 5)." in figure.caption
    assert f"{vital} of 8 causes" in figure.alt_text and f"of {total} cases" in figure.alt_text
    texts = svg_texts(figure)
    assert f"Vital few: {vital} causes" in texts and "80% cut" in texts and "182" in texts


def test_pareto_falls_back_to_value_and_takes_a_cut() -> None:
    rows = (f.row("Late", 40.0, 40), f.row("Rude", 10.0, 10), f.row("Wrong", 50.0, 50))
    metric = f.csat(unit="count", breakdowns={"cause": rows})
    figure = draw("pareto", metric, by="cause", cut=0.5)
    assert figure.data["count"] == (50.0, 40.0, 10.0)
    assert figure.data["vital_few"] == (True, False, False)
    with pytest.raises(ValidationError, match="cut"):
        f.build("pareto", f.request(metric), {"by": "cause", "cut": 1.5})


def test_pareto_with_empty_breakdown() -> None:
    figure = draw("pareto", f.dsat_reasons(breakdowns={"reason": ()}), by="reason")
    assert figure.data == {} and figure.native is None


# --- heatmap ---------------------------------------------------------------------------


def test_heatmap_cells(built: dict[str, Figure]) -> None:
    figure = built["heatmap"]
    rows = f.heatmap_rows()
    assert figure.data["queue"] == tuple(r.key[0] for r in rows)
    assert figure.data["channel"] == tuple(r.key[1] for r in rows)
    assert figure.data["value"] == tuple(None if r.suppressed else r.value for r in rows)
    assert figure.data["n"] == tuple(r.n for r in rows)
    assert figure.native is None
    texts = svg_texts(figure)
    for label in ("92.0%", "68.0%", "n = 40", "suppressed", "Trust & Safety", "Social",
                  "target 85.0%"):
        assert label in texts
    assert "best Onboarding / Phone at 92.0% (n = 92)" in figure.alt_text
    assert "overall 81.2%" in figure.alt_text and "2 cells suppressed" in figure.alt_text
    assert "Billing / Social (n = 7 < 30)" in figure.caption


def test_heatmap_does_not_draw_a_suppressed_value() -> None:
    rows = (f.row(("A", "x"), 0.9, 50), BreakdownRow(key=("A", "y"), value=0.123, n=3,
                                                     suppressed="n = 3 < 30"),
            f.row(("B", "x"), 0.7, 50), f.row(("B", "y"), 0.8, 50))
    figure = draw("heatmap", f.csat(breakdowns={"a,b": rows}), by="a,b", show_n=False)
    assert figure.data["value"] == (0.9, None, 0.7, 0.8)
    assert "12.3%" not in svg_texts(figure) and "suppressed" in svg_texts(figure)


def test_heatmap_needs_two_columns() -> None:
    with pytest.raises(ChartDataError, match="two-column breakdown"):
        draw("heatmap", f.csat(), by="queue")


def test_heatmap_with_every_cell_suppressed_says_so_once() -> None:
    """There is data, too little per cell: not "No data", but how few, once, and which
    grain would have enough (3 a month make 9 a quarter, 36 a year: not a quarter)."""
    rows = (BreakdownRow(key=("A", "x"), value=0.9, n=3, suppressed="n = 3 < 30"),
            BreakdownRow(key=("A", "y"), value=0.8, n=2, suppressed="n = 2 < 30"))
    metric = f.csat(breakdowns={"a,b": rows}, min_n=30, grain="month", n_noun="response")
    figure = draw("heatmap", metric, by="a,b")
    texts = svg_texts(figure)
    assert figure.data == {} and "Too few responses for each a and b" in texts
    assert "No data" not in texts and "90.0%" not in texts
    assert figure.caption == ("Each a and b has fewer than 30 responses this month; a longer "
                              "period would be needed.")
    enough = f.csat(breakdowns={"queue": tuple(
        BreakdownRow(key=(q,), value=0.9, n=12, suppressed="n = 12 < 30") for q in "AB")},
        min_n=30, grain="month", n_noun="response")
    assert draw("bar", enough, by="queue").caption == (
        "Each queue has fewer than 30 responses this month; a quarterly report would have "
        "enough.")


def test_heatmap_all_equal_and_no_target() -> None:
    rows = tuple(f.row((a, b), 0.8, 50) for a in "AB" for b in "xy")
    for target in (None, 0.8):
        figure = draw("heatmap", f.csat(breakdowns={"a,b": rows}, target=target), by="a,b")
        assert figure.data["value"] == (0.8,) * 4
        assert_png(figure)


# --- distribution ----------------------------------------------------------------------


def test_distribution_shares(built: dict[str, Figure]) -> None:
    figure = built["distribution"]
    entries = f.distribution_details()
    assert figure.data["label"] == tuple(e["label"] for e in entries)
    for category in ("1", "2", "3", "4", "5"):
        assert figure.data[category] == tuple(float(e["counts"][category]) for e in entries)
    for i, entry in enumerate(entries):
        total = sum(entry["counts"].values())
        assert figure.data["n"][i] == total
        assert sum(figure.data[f"{c} share"][i] for c in "12345") == pytest.approx(1.0)
    native = figure.native
    assert native is not None and native.chart_type == "percent_stacked_column"
    assert native.categories == tuple(f"{label} (n = {format_count(n)})"
                                      for label, n in zip(figure.data["label"], figure.data["n"],
                                                          strict=True))
    assert "beside each label" in native.caption and "above each column" in figure.caption
    assert [s.name for s in native.series] == ["1", "2", "3", "4", "5"]
    assert native.series[4].values == figure.data["5"]
    last = entries[-1]["counts"]
    share5 = last["5"] / sum(last.values())
    assert f"5: {share5:.0%}" in figure.alt_text and "CSAT is 81.2%" in figure.alt_text
    assert "Rating:" in svg_texts(figure)


def test_distribution_order_param_and_one_period() -> None:
    details = [{"period": "2026-10", "label": "Oct 26",
                "counts": {"Good": 60, "Bad": 10, "Okay": 30}}]
    metric = f.csat(details={"distribution": details})
    figure = draw("distribution", metric, order=("Bad", "Okay", "Good"), chart_id="dist_one")
    assert figure.native is not None
    assert [s.name for s in figure.native.series] == ["Bad", "Okay", "Good"]
    assert figure.data["Good share"] == (0.6,)
    assert "for October 2026" in figure.alt_text


def test_distribution_missing_details_is_a_clear_error() -> None:
    with pytest.raises(ChartDataError) as caught:
        draw("distribution", f.csat(details={}), chart_id="csat_mix")
    message = str(caught.value)
    assert "chart 'csat_mix' (distribution)" in message
    assert "metric 'csat'" in message and "details['distribution']" in message
    with pytest.raises(ChartDataError, match="'counts' in each"):
        draw("distribution", f.csat(details={"distribution": [{"period": "x", "label": "x"}]}))


def test_distribution_empty_is_a_no_data_figure() -> None:
    figure = draw("distribution", f.csat(details={"distribution": []}))
    assert figure.data == {} and figure.native is None


# --- control ---------------------------------------------------------------------------


def test_control_points_and_limits(built: dict[str, Figure]) -> None:
    figure = built["control"]
    points = f.p_chart()["points"]
    assert figure.data["p"] == tuple(p["p"] for p in points)
    assert figure.data["ucl"] == tuple(p["ucl"] for p in points)
    assert figure.data["lcl"] == tuple(p["lcl"] for p in points)
    assert figure.data["out_of_control"] == tuple(p["out_of_control"] for p in points)
    # The deck draws it natively: the points, and the centre line and limits as lines.
    native = figure.native
    assert native is not None and native.chart_type == "line"
    by_name = {s.name: s for s in native.series}
    assert by_name["Upper control limit"].values == tuple(p["ucl"] for p in points)
    assert by_name["Lower control limit"].values == tuple(p["lcl"] for p in points)
    assert set(by_name["Centre line"].values) == {f.p_chart()["center"]}
    data = next(s for s in native.series if s.role == "data")
    assert data.values == tuple(p["p"] for p in points)
    assert [points[i]["label"] for i in data.highlight] == ["May 26", "Oct 26"]
    assert "Highlighted points fall outside their limits" in native.caption
    out = [p["label"] for p in points if p["out_of_control"]]
    assert out == ["May 26", "Oct 26"]
    assert "2 points outside the control limits: May 26 (11.8%), Oct 26 (18.8%)" in figure.alt_text
    assert "October 2026 is 18.8%, above the upper limit" in figure.alt_text
    texts = svg_texts(figure)
    assert "18.8%" in texts and "11.8%" in texts and "CL 15.0%" in texts and "UCL" in texts


def test_control_missing_or_malformed_details() -> None:
    with pytest.raises(ChartDataError, match=r"details\['p_chart'\]"):
        draw("control", f.csat())
    broken = {"center": 0.1, "points": [{"label": "Oct 26", "p": 0.1}]}
    with pytest.raises(ChartDataError, match="'n' in each"):
        draw("control", f.csat(details={"p_chart": broken}))


def test_control_single_point_in_control() -> None:
    chart = {"center": 0.1, "points": [{"label": "Oct 26", "p": 0.1, "n": 500, "ucl": 0.14,
                                        "lcl": 0.06, "out_of_control": False}]}
    figure = draw("control", f.csat(details={"p_chart": chart}, history=()))
    assert "all points within the control limits" in figure.alt_text
    assert_png(figure)


# --- spread ----------------------------------------------------------------------------


def test_spread_groups_agents(built: dict[str, Figure]) -> None:
    figure = built["spread"]
    shown = [r for r in f.agent_rows(True) if r.suppressed is None]
    assert figure.data["group"] == tuple(r.key[0] for r in shown)
    assert figure.data["agent_id"] == tuple(r.key[1] for r in shown)
    assert figure.data["value"] == tuple(r.value for r in shown)
    assert "A007" not in figure.data["agent_id"]
    assert figure.native is None
    texts = svg_texts(figure)
    assert "10 agents" in texts and "Target 85.0" in texts and "Billing" in texts
    assert "for 38 agents in 4 queues" in figure.alt_text and "overall 83.4" in figure.alt_text
    assert "Not shown: Trust & Safety / A007 (n = 3 < 5)" in figure.caption


def test_spread_one_box_and_bad_breakdowns() -> None:
    figure = draw("spread", f.qa_score(), by="agent_id", chart_id="spread_one")
    assert set(figure.data["group"]) == {"QA score"}
    assert "38 agents" in svg_texts(figure)
    with pytest.raises(ChartDataError, match="by group and agent"):
        draw("spread", f.qa_score(), by="site,queue,agent_id")
    empty = draw("spread", f.qa_score(breakdowns={"agent_id": ()}), by="agent_id")
    assert empty.data == {}


# --- calibration -----------------------------------------------------------------------


def test_calibration_bias_and_tolerance(built: dict[str, Figure]) -> None:
    figure = built["calibration"]
    auditors = sorted(f.auditors(), key=lambda a: -a["bias"])
    assert figure.data["auditor"] == tuple(a["auditor"] for a in auditors)
    assert figure.data["bias"] == tuple(a["bias"] for a in auditors)
    assert figure.data["outside_tolerance"] == tuple(abs(a["bias"]) > 5.0 for a in auditors)
    # The deck draws the same bars natively, horizontally, over the ±tolerance band.
    native = figure.native
    assert native is not None and native.chart_type == "bar"
    assert native.categories == figure.data["auditor"]
    band, bias = native.series
    assert band.role == "band" and band.values == (5.0,) * len(auditors)
    assert bias.values == figure.data["bias"]
    assert bias.highlight == tuple(i for i, out in enumerate(figure.data["outside_tolerance"])
                                   if out)
    assert native.alt_text.startswith("Horizontal bar chart of bias")
    assert "MAD" not in native.caption  # the per-auditor statistics are not on the slide
    texts = svg_texts(figure)
    assert "±5.0 tolerance" in texts and "+7.1" in texts and "−6.3" in texts
    assert "Dana Whitfield" in texts and "n = 40 · average gap 7.8 · 55% within" in texts
    assert ("2 auditors outside tolerance: Dana Whitfield (+7.1 pts), Lee Okafor (−6.3 pts)"
            in figure.alt_text)
    assert "QA score is 83.4" in figure.alt_text


def test_calibration_missing_tolerance_and_empty() -> None:
    with pytest.raises(ChartDataError, match=r"details\['tolerance'\]"):
        draw("calibration", f.qa_score(details={"auditors": f.auditors()}))
    empty = draw("calibration", f.qa_score(details={"auditors": [], "tolerance": 5.0}))
    assert empty.data == {}
    within = draw("calibration", f.qa_score(details={"auditors": f.auditors()[2:],
                                                     "tolerance": 5.0}))
    assert "all auditors within tolerance" in within.alt_text


# --- defects readers saw: crowded period axes, partial periods, floors, far targets -------


def test_control_chart_labels_at_most_thirteen_of_sixty_weeks() -> None:
    chart = f.weekly_p_chart(60)
    figure = draw("control", f.csat(details={"p_chart": chart}), chart_id="weekly")
    lines = set(svg_texts(figure).splitlines())
    shown = [p["label"] for p in chart["points"] if p["label"] in lines]
    assert 6 <= len(shown) <= 13
    assert shown[-1] == "Wk 60"  # the latest week always keeps its label


def test_control_limits_are_named_from_the_last_complete_period() -> None:
    chart = f.weekly_p_chart(20, last_n=240)
    points = chart["points"]
    figure = draw("control", f.csat(details={"p_chart": chart}), chart_id="partial")
    texts = svg_texts(figure)
    complete_ucl = format_value(points[-2]["ucl"], "percent")
    partial_ucl = format_value(points[-1]["ucl"], "percent")
    assert complete_ucl != partial_ucl
    assert f"UCL {complete_ucl}" in texts and f"UCL {partial_ucl}" not in texts
    assert "Wk 20 is a partial period (n = 240)" in figure.caption
    # The deck's line chart draws no limits for the partial week, and says so.
    limits = {s.name: s.values for s in figure.native.series}
    assert limits["Upper control limit"][-1] is None
    assert limits["Upper control limit"][-2] == points[-2]["ucl"]
    assert "Wk 20 is a partial period (n = 240); its limits are not drawn" in \
        figure.native.caption


def test_control_chart_of_full_weeks_marks_no_period_partial() -> None:
    figure = draw("control", f.csat(details={"p_chart": f.weekly_p_chart(20)}))
    assert "partial" not in figure.caption


def test_negative_nps_stays_on_the_axis() -> None:
    nps = f.metric("nps", "NPS", "score", (-12.0, -5.0, 3.0, 8.0), half_width=4.0)
    figure = draw("trend", nps, chart_id="nps")
    native = figure.native
    assert native is not None and native.y_min is not None
    assert native.y_min <= -16.0  # the lowest whisker, not a floor at zero
    assert native.y_max is not None and native.y_max >= 12.0


def test_positive_scores_keep_a_zero_floor_and_percentages_a_ceiling() -> None:
    # The lowest whisker ends at 0.1: padding below it must not push the axis under zero.
    low = draw("trend", f.metric("qa", "QA", "score", (2.0, 3.0, 2.5), half_width=1.9))
    assert low.native is not None and low.native.y_min == 0.0
    high = draw("trend", f.metric("fcr", "FCR", "percent", (0.97, 0.98, 0.99), half_width=0.008))
    assert high.native is not None and high.native.y_max == 1.0


def test_count_trend_axis_starts_at_zero() -> None:
    tickets = f.metric("tickets", "Tickets", "count", (4100.0, 4350.0, 4020.0, 4480.0))
    figure = draw("trend", tickets, chart_id="tickets")
    assert figure.native is not None and figure.native.y_min == 0.0


def test_far_target_is_a_note_and_does_not_stretch_the_axis() -> None:
    frt = f.metric("frt", "First response time", "minutes", (4.4, 4.1, 3.9, 4.3),
                   target=60.0, half_width=0.3, direction="lower")
    figure = draw("trend", frt, chart_id="frt")
    native = figure.native
    assert native is not None and native.y_max is not None and native.y_max < 10
    assert [s.role for s in native.series] == ["data"]  # no target line
    assert "Dashed line" not in figure.caption
    assert f"Target {format_value(60.0, 'minutes')} not drawn" in figure.caption
    assert "target" not in figure.data


def test_near_target_is_still_drawn() -> None:
    figure = draw("trend", f.csat(), chart_id="near")
    assert figure.native is not None
    assert [s.role for s in figure.native.series] == ["data", "target"]
    assert "Dashed line: target 85.0%" in figure.caption


def test_far_target_on_bars_is_a_note() -> None:
    rows = (f.row("Email", 4.2, 300), f.row("Chat", 2.1, 280))
    frt = replace(f.metric("frt", "First response time", "minutes", (4.0,), target=60.0),
                  breakdowns={"channel": rows})
    figure = draw("bar", frt, by="channel", chart_id="frt_bars")
    assert figure.native is not None and figure.native.chart_type == "bar"
    assert all(s.role == "data" for s in figure.native.series)
    assert "not drawn" in figure.caption


@pytest.mark.parametrize(("kind", "params"), [
    ("bar", {"by": "queue"}), ("pareto", {"by": "category"}), ("control", {}),
    ("distribution", {}), ("trend", {}), ("heatmap", {"by": "queue,channel"}),
    ("spread", {"by": "agent_id"}), ("calibration", {}),
])
def test_metric_without_rows_in_the_period_is_a_no_data_panel(kind: str, params) -> None:
    # what the engine gives for a period without rows: every breakdown present and empty,
    # the calculator's details with nothing in them
    details = {
        "control": {"p_chart": {"center": None, "points": []}},
        "distribution": {"distribution": [{"period": "2026-10", "label": "Oct 26",
                                           "counts": {str(level): 0 for level in range(1, 6)}}]},
        "calibration": {"auditors": [], "tolerance": 5.0, "bias": None,
                        "within_tolerance": None},
    }
    metric = replace(f.empty(), details=details.get(kind, {}),
                     breakdowns={params["by"]: ()} if "by" in params else {})
    figure = draw(kind, metric, chart_id=f"{kind}_empty", **params)
    assert figure.caption.startswith("No data for CSAT")
    assert "in October 2026" in figure.caption
    assert figure.native is None and figure.data == {}


def test_a_broken_definition_still_fails_when_the_metric_has_data() -> None:
    with pytest.raises(ChartDataError):
        draw("bar", f.csat(), by="nonexistent")


def test_long_week_labels_are_thinned_further_than_short_ones() -> None:
    chart = f.weekly_p_chart(60)
    for point in chart["points"]:
        point["label"] = f"2026-W{int(str(point['label']).split()[1]):02d}"
    figure = draw("control", f.csat(details={"p_chart": chart}), chart_id="iso_weeks")
    lines = set(svg_texts(figure).splitlines())
    shown = [p["label"] for p in chart["points"] if p["label"] in lines]
    assert 4 <= len(shown) <= 9 and shown[-1] == "2026-W60"


def test_far_target_on_a_spread_is_a_note() -> None:
    rows = tuple(f.row(f"A{i:02d}", 3.0 + (i % 5) * 0.4, 20) for i in range(12))
    frt = replace(f.metric("frt", "First response time", "minutes", (4.0,), target=60.0,
                           direction="lower"), breakdowns={"agent_id": rows})
    figure = draw("spread", frt, by="agent_id", chart_id="frt_spread")
    assert "Dashed line" not in figure.caption
    assert f"Target {format_value(60.0, 'minutes')} not drawn" in figure.caption


def test_a_chart_for_no_slides_is_drawn_without_a_png(built: dict[str, Figure]) -> None:
    request = replace(f.request(f.csat(), chart_id="heatmap", title="heatmap chart"),
                      raster=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vector = f.build("heatmap", request, {"by": "queue,channel"})
    assert vector.png == b""
    assert vector.svg == built["heatmap"].svg  # the same drawing as with its PNG
    assert_png(built["heatmap"])

