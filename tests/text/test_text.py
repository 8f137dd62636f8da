"""The text authority (reportgen.text): one rule per kind of number, in the report's locale."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from support.factories import sample_metric

from reportgen import text
from reportgen.definition.document import Definition
from reportgen.metrics import CALCULATORS
from reportgen.metrics.operations import FcrParams, FirstContactResolution
from reportgen.report.model.report_model import Theme
from reportgen.report.tiles_and_tables import make_kpi


def test_values_by_unit():
    assert text.value(0.8123, "percent") == "81.2%"
    assert text.value(1234, "count") == "1,234"
    assert text.value(81.04, "score") == "81.0"
    assert text.value(45.0, "seconds") == "45 s"
    assert text.value(4.23, "minutes") == "4.2 min"
    assert text.value(55.64, "hours") == "55.6 h"
    assert text.value(0.8123, "ratio") == "0.81"
    assert text.value(3.5, "number") == "3.5" and text.value(3.0, "number") == "3"
    assert text.value(None, "percent") == "—" and text.value(float("nan"), "score") == "—"


def test_changes_are_points_for_rates_and_scores_and_relative_for_counts():
    assert text.change(-0.041, "percent") == "−4.1 pts"
    assert text.change(-3.1, "score") == "−3.1 pts"
    assert text.change(120, "count", previous=1000) == "+120 (+12.0%)"
    assert text.change(-0.24, "minutes") == "−0.2 min"
    assert text.change(0.00001, "percent") == "±0.0 pts"  # rounds to nothing: no sign
    assert text.change(None, "score") == "—"
    assert text.change_words(-0.041, "percent") == "4.1 points"
    assert text.change_words(3.4, "minutes") == "3.4 minutes"
    assert text.signed_change_words(-0.029, "percent") == "−2.9 points"


def test_no_change_in_a_count_is_plain_zero():
    # nothing to relate: "±0", not "±0 (±0.0%)"; a change that rounds to zero likewise
    assert text.change(0, "count", previous=6) == "±0"
    assert text.change(0.2, "count", previous=6) == "±0"
    assert text.change(-1, "count", previous=6) == "−1 (−16.7%)"


def test_a_difference_of_rates_reads_in_points():
    # a value that is itself a change of a rate (re-contacts per 10 QA points): points, signed
    assert text.value(-0.0423, "points") == "−4.2 pts"
    assert text.value(0.031, "points") == "+3.1 pts"
    assert text.value(0.0001, "points") == "±0.0 pts"
    assert text.interval(-0.064, -0.020, "points") == "−6.4 to −2.0 pts"
    assert text.change(-0.005, "points") == "−0.5 pts"
    assert text.change_words(-0.005, "points") == "0.5 points"
    assert text.shown(-0.04234, "points") == pytest.approx(-0.042)


@pytest.mark.parametrize(("p", "alpha", "expected"), [
    (0.0004, None, "p < 0.001"),
    (0.0241, None, "p = 0.024"),
    (0.4921, None, "p = 0.49"),
    (0.0042, None, "p = 0.0042"),
    (0.0996, None, "p = 0.10"),
    (0.0496, 0.05, "p = 0.0496"),  # would round onto alpha: a third digit keeps the verdict
    (0.0504, 0.05, "p = 0.0504"),
    (0.0496, None, "p = 0.050"),
])
def test_p_values_have_two_significant_digits(p, alpha, expected):
    assert text.p_value(p, alpha) == expected


def test_intervals_name_the_unit_once():
    assert text.interval(0.758, 0.804, "percent") == "75.8–80.4%"
    assert text.interval(3.91, 4.52, "minutes") == "3.9–4.5 min"
    assert text.interval(-0.02, 0.03, "percent") == "−2.0%–3.0%"
    assert text.confidence_label(0.9) == "90% CI"


def test_german_locale_writes_decimal_commas_and_its_percent_sign():
    with text.locale_scope("de"):
        assert text.value(0.835, "percent").replace("\u00a0", " ") == "83,5 %"
        assert text.value(12345, "count") == "12.345"
        assert text.change(-0.041, "percent") == "−4,1 pts"
        assert text.p_value(0.0241) == "p = 0,024"
        assert text.month(sample_metric().history[5].start) == "März 2026"
    assert text.value(0.835, "percent") == "83.5%"  # the scope ends with the block


def test_unknown_locale_is_refused_with_close_matches():
    with pytest.raises(ValueError, match=r"unknown locale 'dee'.*did you mean .*'de'"):
        text.parse_locale("dee")
    assert str(text.parse_locale("de-AT")) == "de_AT"
    with pytest.raises(ValueError, match="unknown locale"):
        Definition.model_validate({
            "id": "x", "title": "X", "locale": "klingon",
            "sources": {"s": {"kind": "csv", "path": "a.csv", "time_column": "t"}},
            "metrics": [{"id": "m", "calculator": "volume", "source": "s"}],
            "sections": [{"id": "a", "title": "A"}]})


def test_one_status_palette_follows_the_theme():
    assert [text.status_label(s) for s in ("on_target", "at_risk", "off_target", None)] == [
        "On target", "At risk", "Off target", ""]
    theme = Theme(good="#00AA00", bad="#AA0000", warning="#AAAA00")
    assert text.status_colour("off_target", theme) == "#AA0000"
    assert text.status_colour("at_risk", theme) == "#AAAA00"
    assert text.status_colour(None, theme) == theme.neutral


def test_plural_handles_words_ending_in_consonant_y():
    assert text.plural(1, "category") == "1 category"
    assert text.plural(2, "category") == "2 categories"
    assert text.plural(3, "day") == "3 days"
    assert text.plural(1200, "queue") == "1,200 queues"


def test_kpi_strings_and_colours_follow_direction_and_significance():
    theme = Theme(bad="#990000")
    kpi = make_kpi(sample_metric(), theme)  # CSAT fell 4.1 points, significant, higher is better
    assert (kpi.value_text, kpi.arrow, kpi.delta_tone) == ("81.2%", "down", "bad")
    assert kpi.significance_text == "a real change, not noise"
    assert kpi.significance_detail == "significant (p = 0.027)"
    assert kpi.delta_text == "−4.1 pts vs previous period"
    assert kpi.interval_text == "95% CI 78.4–83.7%"
    assert (kpi.status_text, kpi.status_tone, kpi.status_colour) == ("Off target", "bad", "#990000")
    assert kpi.delta_colour == "#990000"


def test_a_tile_states_the_change_of_its_shown_values_and_a_shown_zero_is_flat():
    # 80.04% against 79.96%: both read 80.0%, so the tile reads no change, neither up
    # nor good, though the unrounded values moved and the test called it real
    flat = make_kpi(sample_metric(value=0.8004, previous=0.7996))
    assert flat.value_text == "80.0%"
    assert (flat.delta_text, flat.arrow, flat.delta_tone) == ("±0.0 pts vs previous period",
                                                              "flat", "neutral")
    # 80.04% against 82.66%: 80.0% against 82.7% is 2.7 points, though 2.62 unrounded
    fell = make_kpi(sample_metric(value=0.8004, previous=0.8266))
    assert (fell.delta_text, fell.arrow, fell.delta_tone) == ("−2.7 pts vs previous period",
                                                              "down", "bad")


def test_formula_with_an_unset_parameter_never_reads_none():
    described = FirstContactResolution().describe(FcrParams())
    assert "None" not in described and "[" not in described
    assert "when the reopened_column parameter is set" in described
    assert "(status in solved, closed)" in described


def test_no_calculator_formula_prints_none_for_its_defaults():
    described = 0
    for name in CALCULATORS.names():
        calculator = CALCULATORS.get(name)
        required = [f for f, info in calculator.Params.model_fields.items() if info.is_required()]
        given = {f: "csat" if f in ("rate", "kpi") else "x" for f in required}  # wrappers of a KPI
        params = calculator.Params.model_validate(given)
        text_ = calculator().describe(params)
        assert "None" not in text_ and "['" not in text_, (name, text_)
        described += 1
    assert described >= 20


@pytest.mark.parametrize(("number", "unit", "locale", "expected"), [
    (1e308, "minutes", "en", "1E308 min"),
    (-2.5e20, "number", "de", "\u22122,5E20"),
    (1e300, "percent", "en", "1E302%"),
    (1234.5, "minutes", "en", "1,234.5 min"),  # an ordinary value keeps every digit
])
def test_a_value_beyond_any_measurement_is_written_with_an_exponent(number, unit, locale,
                                                                    expected):
    assert text.value(number, unit, locale) == expected


MOMENT = datetime(2026, 12, 6, 18, 22, tzinfo=UTC)


@pytest.mark.parametrize("locale", ["en", "de"])
def test_a_timestamp_is_babels_medium_date_and_short_time_with_the_zone(locale):
    # Babel's own parts, joined by the locale's own medium date-time pattern
    joined = get_datetime_format("medium", locale=locale)
    berlin = ZoneInfo("Europe/Berlin")

    def babel(zone, abbreviation):
        return (joined.replace("{1}", format_date(MOMENT.astimezone(zone), "medium", locale=locale))
                .replace("{0}", format_time(MOMENT, "short", tzinfo=zone, locale=locale))
                .replace("\u202f", " ") + f" {abbreviation}")

    assert text.timestamp(MOMENT, locale=locale) == babel(UTC, "UTC")
    assert text.timestamp(MOMENT, "UTC", locale) == babel(UTC, "UTC")
    # 18:22 UTC on 6 December is 19:22 in Berlin, on winter time (CET)
    assert text.timestamp(MOMENT, "Europe/Berlin", locale) == babel(berlin, "CET")
    assert text.clock(MOMENT, "Europe/Berlin", locale) == format_time(
        MOMENT, "short", tzinfo=berlin, locale=locale).replace("\u202f", " ")


def test_a_timestamp_reads_the_same_way_in_every_place():
    assert text.timestamp(MOMENT) == "Dec 6, 2026, 6:22 PM UTC"
    assert text.timestamp(MOMENT, "Europe/Berlin", "de") == "06.12.2026, 19:22 CET"
    assert text.timestamp(MOMENT, "America/New_York") == "Dec 6, 2026, 1:22 PM EST"
    assert text.timestamp(MOMENT, "Nowhere/Unknown") == "Dec 6, 2026, 6:22 PM UTC"
    assert text.timestamp(MOMENT.replace(tzinfo=None)) == "Dec 6, 2026, 6:22 PM"  # no zone known
    with text.locale_scope("de"):
        assert text.timestamp(MOMENT) == "06.12.2026, 18:22 UTC"


@pytest.mark.parametrize("locale", ["en", "de"])
def test_settings_levels_and_axis_labels_follow_the_locale(locale):
    symbols = Locale.parse(locale).number_symbols["latn"]
    assert text.plain(24.0, locale) == "24"
    assert text.plain(1.5, locale) == f"1{symbols['decimal']}5"
    assert text.significance(0.05, locale) == f"α = 0{symbols['decimal']}05"
    assert text.quarter_axis(date(2026, 7, 1), locale) == format_date(
        date(2026, 7, 1), "QQQ yy", locale=locale)
    assert text.week_axis(date(2026, 10, 12), locale) == "W42 26"  # ISO week 42


def test_a_duration_in_seconds_keeps_a_decimal_only_while_it_would_round_to_nothing():
    from reportgen.text import seconds

    assert seconds(0.44) == "0.4 s" and seconds(9.96) == "10.0 s"
    assert seconds(12.6) == "13 s" and seconds(1234.0) == "1,234 s"
    assert seconds(0.44, "de") == "0,4 s"
    assert seconds(None) == text.MISSING


def test_shown_values_survive_huge_and_non_finite_numbers() -> None:
    from reportgen.text.number import shown, shown_difference

    assert shown(1e308, "count") == 1e308 and shown(-1e300, "percent") == -1e300
    assert shown(float("inf"), "score") == float("inf")
    assert math.isnan(shown(float("nan"), "score"))
    assert shown_difference(1e300, 1e300, "count") == 0
    assert shown(14.35, "minutes") == 14.4  # as the text prints it, not round()'s 14.3
