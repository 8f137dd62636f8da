"""The body's words for statistical ideas (reportgen.text.terms), the rating unit, and the
tiles and tables that use them."""

from __future__ import annotations

from reportgen import text
from reportgen.definition.content_specs import TableSpec
from reportgen.report.model.metric_results import (
    BreakdownRow,
    Change,
    Interval,
    MetricResult,
    Scale,
)
from reportgen.report.tiles_and_tables import breakdown_table, make_kpi
from reportgen.text import terms


def test_whiskers_name_the_level_not_the_method() -> None:
    assert terms.whiskers([0.95, 0.95]) == "Whiskers: 95% intervals."
    assert terms.whiskers([0.9, 0.95]) == "Whiskers: intervals."


def test_the_change_mark_says_a_real_change_since_the_month() -> None:
    assert terms.change_mark_note("August 2026") == "* a real change since August 2026"


def test_a_difference_between_groups_is_not_a_change() -> None:
    assert "change" not in terms.REAL_DIFFERENCE
    assert terms.REAL_DIFFERENCE == "more than chance would explain"


def test_scale_text_states_range_and_good_end() -> None:
    assert terms.scale_text(Scale(1, 7, "easier"), "higher") == "1–7 scale, higher is easier"
    assert terms.scale_text(Scale(-100, 100), "higher") == "−100 to 100 scale, higher is better"
    assert terms.scale_text(None, "higher") == ""


def test_all_suppressed_suggests_the_grain_that_would_have_enough() -> None:
    said = terms.all_suppressed("ticket type", [18, 25, 12], 30, "month", "response")
    assert said == ("Each ticket type has fewer than 30 responses this month; a quarterly "
                    "report would have enough")
    # 9 a month makes 27 a quarter: not enough, and the sentence does not pretend it is
    assert terms.all_suppressed("queue", [9, 4], 30, "month", "response").endswith(
        "a longer period would be needed")
    assert "yearly" in terms.all_suppressed("queue", [9], 30, "quarter")


def test_a_rating_mean_moves_in_its_own_steps_not_points() -> None:
    assert text.value(5.23, "rating") == "5.2"
    assert text.change(-0.21, "rating") == "−0.2"
    assert text.change_words(-0.21, "rating") == "0.2"
    assert text.change(-0.9, "score") == "−0.9 pts"  # a 0-100 score still moves in points


def effort(**extra: object) -> MetricResult:
    base: dict[str, object] = dict(
        metric_id="ces", label="Customer effort", calculator="ces", unit="rating",
        direction="higher", value=5.23, n=616,
        interval=Interval(5.1, 5.4, 0.95, "Student t"),
        change=Change(previous=5.44, previous_n=590, delta=-0.21, test="Welch's t-test",
                      statistic=-1.3, p_value=0.2, significant=False, alpha=0.05,
                      against="August 2026"),
        scale=Scale(1, 7, "easier"), min_n=30, grain="month", n_noun="response")
    base.update(extra)
    return MetricResult(**base)  # type: ignore[arg-type]


def test_an_effort_tile_states_its_scale_and_a_change_without_points() -> None:
    kpi = make_kpi(effort())
    assert kpi.value_text == "5.2"
    assert kpi.scale_text == "1–7 scale, higher is easier"
    assert kpi.delta_text == "−0.2 vs August 2026"
    assert make_kpi(effort(scale=None)).scale_text == ""


def row(key: str, n: int, value: float | None = None) -> BreakdownRow:
    if value is None:
        return BreakdownRow((key,), None, n, suppressed=f"n = {n} is below the minimum of 30")
    return BreakdownRow((key,), value, n, change=Change(
        previous=value - 0.5, previous_n=n, delta=0.5, test="Welch's t-test", statistic=2.6,
        p_value=0.01, significant=True, alpha=0.05, against="August 2026"))


def test_a_table_whose_every_row_is_too_small_says_so_once() -> None:
    result = effort(breakdowns={"priority": (row("High", 23), row("Low", 27))})
    table = breakdown_table(result, TableSpec(metric="ces", by="priority"), 0)
    assert table.note == ("Each priority has fewer than 30 responses this month; a quarterly "
                          "report would have enough.")


def test_a_table_notes_the_mark_only_when_a_change_carries_it() -> None:
    some = effort(breakdowns={"priority": (row("High", 40, 5.0), row("Low", 12))})
    table = breakdown_table(some, TableSpec(metric="ces", by="priority"), 0)
    assert table.note == ("* a real change since August 2026; 1 segment below the minimum n "
                          "is not shown as values.")
    steady = effort(breakdowns={"priority": (BreakdownRow(("High",), 5.0, 40),)})
    assert breakdown_table(steady, TableSpec(metric="ces", by="priority"), 0).note == ""
