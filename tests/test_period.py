from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reportgen.errors import PeriodError
from reportgen.period import Period


def test_month_label_key_and_bounds():
    p = Period.parse("2026-10", "month", "Europe/Berlin")
    assert (p.key, p.label, p.short_label) == ("2026-10", "October 2026", "Oct 26")
    assert (p.start, p.end) == (date(2026, 10, 1), date(2026, 11, 1))


def test_month_containing_dst_end_has_an_extra_hour():
    # Berlin leaves summer time on 25 Oct 2026: October is 31 days + 1 hour long.
    p = Period.parse("2026-10", "month", "Europe/Berlin")
    assert p.end_at.timestamp() - p.start_at.timestamp() == (31 * 24 + 1) * 3600
    assert p.start_at.utcoffset().total_seconds() == 2 * 3600
    assert p.end_at.utcoffset().total_seconds() == 1 * 3600


def test_month_containing_dst_start_is_an_hour_short():
    p = Period.parse("2026-03", "month", "America/New_York")
    assert p.end_at.timestamp() - p.start_at.timestamp() == (31 * 24 - 1) * 3600


def test_instant_just_before_local_midnight_belongs_to_the_old_month():
    p = Period.parse("2026-10", "month", "Europe/Berlin")
    # 31 Oct 23:30 Berlin (CET, UTC+1) is 22:30 UTC: still October.
    assert p.contains(datetime(2026, 10, 31, 22, 30, tzinfo=UTC))
    # 31 Oct 23:30 UTC is 1 Nov 00:30 in Berlin: November.
    assert not p.contains(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))


def test_year_boundaries():
    jan = Period.parse("2026-01", "month")
    assert jan.previous().key == "2025-12"
    assert Period.parse("2025-12", "month").next().key == "2026-01"
    q1 = Period.parse("2026-Q1", "quarter")
    assert q1.previous().key == "2025-Q4"
    assert q1.previous().label == "Q4 2025"
    assert jan.same_period_last_year().key == "2025-01"


def test_iso_weeks_across_the_year_end():
    # 29 Dec 2025 is Monday of ISO week 1 of 2026.
    w = Period.parse("2026-W01", "week")
    assert w.start == date(2025, 12, 29)
    assert w.previous().key == "2025-W52"
    assert Period.parse("2026-W53", "week").key == "2026-W53"  # 2026 has 53 ISO weeks
    with pytest.raises(PeriodError, match="no ISO week 53"):
        Period.parse("2025-W53", "week")


def test_trailing_is_oldest_first_and_crosses_years():
    keys = [p.key for p in Period.parse("2026-02", "month").trailing(4)]
    assert keys == ["2025-11", "2025-12", "2026-01", "2026-02"]
    quarters = [p.key for p in Period.parse("2026-Q2", "quarter").trailing(3)]
    assert quarters == ["2025-Q4", "2026-Q1", "2026-Q2"]


def test_last_complete_period_uses_the_report_timezone():
    # 1 Nov 2026 00:30 in Tokyo is still 31 Oct in UTC.
    now = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)
    assert Period.last_complete(now, "month", "Asia/Tokyo").key == "2026-10"
    assert Period.last_complete(now, "month", "UTC").key == "2026-09"
    assert Period.last_complete(datetime(2026, 11, 22, tzinfo=UTC), "quarter", "UTC").key == "2026-Q3"


def test_a_month_named_for_a_quarterly_report_means_its_quarter():
    assert Period.parse("2026-08", "quarter").key == "2026-Q3"


@pytest.mark.parametrize("text, message", [
    ("2026-13", "month must be 01-12"),
    ("October", "expected YYYY-MM"),
    ("2026-Q3", "names a quarter but the report is monthly"),
])
def test_bad_period_strings_say_what_was_expected(text, message):
    with pytest.raises(PeriodError, match=message):
        Period.parse(text, "month")


def test_unknown_timezone_is_named():
    with pytest.raises(PeriodError, match="unknown timezone 'Mars/Olympus'"):
        _ = Period.parse("2026-10", "month", "Mars/Olympus").start_at


@pytest.mark.parametrize(("text", "grain"), [("9999-12", "month"), ("9999-Q4", "quarter"),
                                              ("0001-01", "month"), ("9999-W52", "week")])
def test_a_period_whose_history_or_end_is_no_date_is_refused(text, grain):
    with pytest.raises(PeriodError, match=f"period '{text}': expected a year from"):
        Period.parse(text, grain)


def test_the_cli_refuses_an_out_of_range_period_with_exit_2(tmp_path, write_definition,
                                                           capsys):
    from reportgen.cli import main

    (tmp_path / "t.csv").write_text("created_at,x\n2026-09-01 10:00:00,1\n", encoding="utf-8")
    path = write_definition("""
        id: t
        title: T
        sources:
          t: {kind: csv, path: t.csv, time_column: created_at, columns: {x: str}}
        metrics:
          - {id: volume, calculator: volume, source: t}
        sections:
          - {id: s, title: S, kpis: [volume]}
        outputs:
          - {format: xlsx}
        """)
    code = main(["run", str(path), "--period", "9999-12", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "period '9999-12'" in err and "internal error" not in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.xlsx"))


def test_a_period_whose_neighbours_leave_the_calendar_is_refused_as_input():
    for text, grain in (("9999-12", "month"), ("9999-Q4", "quarter"), ("9999-W52", "week"),
                        ("0001-01", "month")):
        with pytest.raises(PeriodError, match=f"expected a year from 1900 to 9998, found {text[:4]}"):
            Period.parse(text, grain, "UTC")
    assert Period.parse("9998-12", "month", "UTC").previous().key == "9998-11"
