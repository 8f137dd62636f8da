"""The one place numbers become text (reportgen.render.format)."""

from __future__ import annotations

from factories import sample_metric

from reportgen.render.format import format_delta, format_p, format_value, make_kpi, plural


def test_values_by_unit():
    assert format_value(0.8123, "percent") == "81.2%"
    assert format_value(1234, "count") == "1,234"
    assert format_value(81.04, "score") == "81.0"
    assert format_value(4.23, "minutes") == "4.2 min"
    assert format_value(None, "percent") == "—"


def test_deltas_are_points_for_rates_and_relative_for_counts():
    assert format_delta(-0.041, "percent") == "−4.1 pts"
    assert format_delta(120, "count", previous=1000) == "+120 (+12.0%)"
    assert format_delta(None, "score") == "—"
    assert format_p(0.0004) == "p < 0.001" and format_p(0.0271) == "p = 0.027"


def test_plural_handles_words_ending_in_consonant_y():
    assert plural(1, "category") == "1 category"
    assert plural(2, "category") == "2 categories"
    assert plural(3, "day") == "3 days"
    assert plural(1200, "queue") == "1,200 queues"


def test_kpi_tone_follows_direction_and_significance():
    kpi = make_kpi(sample_metric())  # CSAT fell 4.1 points, significant, higher is better
    assert (kpi.value_text, kpi.arrow, kpi.delta_tone) == ("81.2%", "down", "bad")
    assert kpi.significance_text == "significant (p = 0.027)"
    assert kpi.status_text == "Off target"
